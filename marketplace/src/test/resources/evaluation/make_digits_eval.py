#!/usr/bin/env python3
"""Writes the digits evaluation fixtures: digits_eval.csv (the held-out rows of scikit-learn's digits
that serving/fixtures/digits_mlp.pt was evaluated on, one column per pixel and the true digit) and
digits_eval_expected.json (what PyTorch itself predicts for those rows, and the figures scikit-learn
computes from those predictions: accuracy, macro-F1, per-class precision and recall, the confusion
matrix and top-3 accuracy). EvaluationApiTest runs an evaluation job over the CSV and must get the same.

It follows serving/fixtures/make_heldout.py (same rows, same transform, same model) but lives with the
marketplace's tests, which are the ones that read it. Run with Debian's python3-torch and python3-sklearn:

    /usr/bin/python3 marketplace/src/test/resources/evaluation/make_digits_eval.py
"""

import json
import os

import torch
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, top_k_accuracy_score

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "..", "..", "serving", "fixtures")


def main():
    torch.set_num_threads(1)
    with open(os.path.join(FIXTURES, "digits_mlp.json")) as f:
        manifest = json.load(f)
    test_idx = manifest["evaluation"]["split"]["test_indices"]
    digits = load_digits()
    pixels = digits.data[test_idx] / 16.0  # k/16: exact in 4 decimals, so the CSV holds the same floats
    y = [int(v) for v in digits.target[test_idx]]
    model = torch.jit.load(os.path.join(FIXTURES, "digits_mlp.pt"))
    model.eval()
    with torch.no_grad():
        scores = model(torch.tensor(pixels, dtype=torch.float32))
    predictions = scores.argmax(dim=1).tolist()
    labels = list(range(10))
    with open(os.path.join(HERE, "digits_eval.csv"), "w") as f:
        f.write(",".join("p%d" % i for i in range(64)) + ",digit\n")
        for row, digit in zip(pixels, y):
            f.write(",".join(("%.4f" % v).rstrip("0").rstrip(".") for v in row) + ",%d\n" % digit)
    expected = {
        "model": "digits_mlp",
        "rows": len(y),
        "torch_predictions": predictions,
        "accuracy": accuracy_score(y, predictions),
        "macroF1": f1_score(y, predictions, average="macro"),
        "precision": [float(v) for v in precision_score(y, predictions, average=None, labels=labels, zero_division=0)],
        "recall": [float(v) for v in recall_score(y, predictions, average=None, labels=labels, zero_division=0)],
        "confusionMatrix": confusion_matrix(y, predictions, labels=labels).tolist(),
        "top3Accuracy": top_k_accuracy_score(y, scores.numpy(), k=3, labels=labels),
    }
    with open(os.path.join(HERE, "digits_eval_expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")
    print("digits_eval: %d rows, torch accuracy %.4f, top-3 %.4f" % (len(y), expected["accuracy"], expected["top3Accuracy"]))


if __name__ == "__main__":
    main()
