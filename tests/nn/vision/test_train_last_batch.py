"""The training command on a split whose last batch holds one image, with a model that reaches
1x1 (ResNet-18's CIFAR stem on 8x8 digits): before, batch norm raised 'training needs more than
one value per channel' mid-epoch; the single image is now skipped (drop_last for that case)."""

from nn.vision import train as cmd


def test_a_last_batch_of_one_image_does_not_stop_the_run(tmp_path):
    # --limit 66 with --val-fraction 0.1: 60 training images, batches of 59 and 1
    metrics = cmd.main(["train", "--model", "resnet18", "--width", "4", "--data", "digits",
                        "--epochs", "1", "--limit", "66", "--batch-size", "59",
                        "--val-fraction", "0.1", "--out", str(tmp_path / "run"),
                        "--no-progress"])
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
