"""Azure ML entry script: init() loads the model once per worker, run() scores one request.

The request body is JSON: {"data": [[x0, x1], ...]}; the answer is {"predictions": [...]}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import joblib

model: Any = None


def init() -> None:
    global model
    model_dir = Path(os.environ.get("AZUREML_MODEL_DIR", "."))
    model = joblib.load(model_dir / "regression" / "1" / "model.joblib")


def run(raw_data: str) -> dict[str, Any]:
    rows = json.loads(raw_data)["data"]
    predictions = model.predict(rows)
    return {"predictions": [round(float(p), 6) for p in predictions]}
