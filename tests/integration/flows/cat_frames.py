"""DataFrame artifacts, one partitioned by a key and by day, for the Glue tables registration keeps."""

from datetime import datetime

import pandas as pd

from chalicelib import Artifact, task, workflow
from chalicelib.sdk.timeparts import Granularity

CatSales = Artifact(name="cat_sales", partition_keys=["region"], time_partitioned=True, time_partition_granularity=Granularity.DAY)
CatEmpty = Artifact(name="cat-empty")
CatWide = Artifact(name="Cat.Wide")  # a footer larger than the first ranged read


@task
def make_sales(region: str, day: datetime) -> pd.DataFrame:
    return pd.DataFrame({"Amount": [1.5], "sku": ["a"], "region": [region]})


@workflow
def cat_wf(region: str, day: datetime) -> pd.DataFrame:
    return make_sales(region=region, day=day)

CatBroken = Artifact(name="cat_broken")  # its newest object is not parquet
CatClash = Artifact(name="Cat-Sales")  # the same Athena name as cat_sales
