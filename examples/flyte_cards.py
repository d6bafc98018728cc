"""Cards: the positional argument after the value in `create_from` is stored with the version.

    python -m chalicelib run examples/flyte_cards.py cards_wf
"""

import pandas as pd
from typing_extensions import Annotated

from chalicelib import Artifact, DataCard, ModelCard, task, workflow

Model = Artifact(name="churn_model", partition_keys=["stage"])
Dataset = Artifact(name="churn_dataset")


@task
def prepare() -> Annotated[pd.DataFrame, Dataset]:
    df = pd.DataFrame({"tenure": [1, 12, 30], "churned": [True, False, False]})
    return Dataset.create_from(df, DataCard("# Churn data\n\n" + df.describe().to_markdown()))


@task
def train(df: pd.DataFrame) -> Annotated[dict, Model(stage="candidate")]:
    weights = {"tenure": -0.1, "bias": round(float(df["churned"].mean()), 3)}
    return Model.create_from(weights, ModelCard(f"# Churn model\n\nbias = {weights['bias']}"))


@workflow
def cards_wf() -> dict:
    return train(df=prepare())
