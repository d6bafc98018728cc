"""StructuredDataset with column subsets, as an artifact too, and a query bound to the workflow's inputs.

    python -m chalicelib run examples/flyte_structured.py subset_wf --a 19
    python -m chalicelib run examples/flyte_structured.py publish_people --region emea --day 2026-11-24

`read_people --region emea --day 2026-11-24T15:00:00Z` reads the version `publish_people` made, so it runs on a
cloud that has it (a stage, or one local cloud as in tests/integration/test_flyte_compat_pieces.py); on a fresh
one its query finds no version and the execution fails saying which query.
"""

from datetime import datetime

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, Inputs, StructuredDataset, kwtypes, task, workflow

all_cols = kwtypes(Name=str, Age=int, Height=int)
col = kwtypes(Age=int)

People = Artifact(name="people", partition_keys=["region"], time_partitioned=True)


@task
def generate_pandas_df(a: int) -> pd.DataFrame:
    return pd.DataFrame({"Name": ["Tom", "Joseph"], "Age": [a, 22], "Height": [160, 178]})


@task
def get_subset_pandas_df(df: Annotated[StructuredDataset, all_cols]) -> Annotated[StructuredDataset, col]:
    df = df.open(pd.DataFrame).all()
    df = pd.concat([df, pd.DataFrame([[30]], columns=["Age"])])
    return StructuredDataset(dataframe=df)


@task
def mean_age(df: Annotated[StructuredDataset, col]) -> float:
    ages = df.open(pd.DataFrame).all()
    print(f"columns {list(ages.columns)}")
    return float(ages["Age"].mean())


@workflow
def subset_wf(a: int = 19) -> float:
    return mean_age(df=get_subset_pandas_df(df=generate_pandas_df(a=a)))


@task
def make_people(region: str, day: datetime) -> Annotated[StructuredDataset, People(region=Inputs.region)(time_partition=Inputs.day)]:
    return StructuredDataset(dataframe=pd.DataFrame({"Name": ["Ann", "Bo"], "Age": [31, 45], "Height": [170, 180]}))


@workflow
def publish_people(region: str, day: datetime) -> StructuredDataset:
    return make_people(region=region, day=day)


@task
def names(people: Annotated[StructuredDataset, kwtypes(Name=str)]) -> str:
    return ",".join(people.open(pd.DataFrame).all()["Name"])


@workflow
def read_people(region: str, day: datetime,
                people: StructuredDataset = People.query(region=Inputs.region, time_partition=Inputs.day)) -> str:
    return names(people=people)
