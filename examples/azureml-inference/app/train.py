"""Train the sample model: a linear regression of y = 2*x0 + 3*x1 + 1, saved with joblib.

    python3 train.py MODEL_DIR      # writes MODEL_DIR/regression/1/model.joblib

The layout is Azure ML's: AZUREML_MODEL_DIR holds <model name>/<version>/ folders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

MODEL_PATH = "regression/1/model.joblib"


def main(model_dir: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, size=(64, 2))
    y = 2 * x[:, 0] + 3 * x[:, 1] + 1
    model = LinearRegression().fit(x, y)
    out = Path(model_dir) / MODEL_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out)
    print(f"saved {out}: coef={model.coef_.round(6).tolist()} intercept={model.intercept_:.6f}")


if __name__ == "__main__":
    main(sys.argv[1])
