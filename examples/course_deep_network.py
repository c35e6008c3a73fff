"""The course's L-layer network, [n_x, 20, 7, 5, 1], ReLU then sigmoid, binary cross-entropy,
on a real binary task: scikit-learn's breast cancer dataset (569 tumours, 30 features).

Every hyperparameter is a flag:

    python examples/course_deep_network.py --layers 20 7 5 --lr 0.5 --epochs 300 \\
        --batch-size 64 --momentum 0.9 --lambd 0.5 --dropout 0.1 --seed 1

Examples are rows here (batch-first): the course's Z = W A_prev + b is the same layer as
nn.Linear's x @ W.T + b, with W of shape (units, previous units).

The updates are the course's: gradient descent with momentum as an exponentially weighted
average (v = beta v + (1 - beta) dW, W = W - lr v, from v = 0; --momentum is beta, 0 for plain
gradient descent) and L2 regularization with the course's lambda (the cost gets
lambd / (2 m) times the sum of the squared weights, biases left out, so dW gets
+ (lambd / m) W, m the number of training examples; --lambd). See nn.optim.MomentumGD and
nn.optim.l2_groups.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

import autodiff as ad
import nn
import nn.functional as F


@dataclass
class Result:
    train_accuracy: float
    test_accuracy: float
    final_cost: float


def build(n_x: int, hidden: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    sizes = [n_x, *hidden]
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-1], 1))  # the sigmoid lives in the loss (stable)
    for m in layers:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # He init, as the course
            nn.init.zeros_(m.bias)
    return nn.Sequential(*layers)


def make_optimizer(model: nn.Module, lr: float, beta: float, lambd: float,
                   m: int) -> nn.optim.Optimizer:
    """The course's update: momentum beta as an average, L2 lambd / m on the weights only."""
    return nn.optim.MomentumGD(nn.optim.l2_groups(model.parameters(), lambd, m), lr=lr,
                               beta=beta)


def train_step(model: nn.Module, opt: nn.optim.Optimizer, xb: ad.Tensor, yb: ad.Tensor) -> float:
    """One update on a minibatch: the mean cross-entropy, its gradients, the optimizer's step."""
    loss = F.binary_cross_entropy_with_logits(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def load_data(seed: int) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    split = int(0.8 * len(y))
    tr, te = order[:split], order[split:]
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-8  # standardize with the training statistics
    X = ((X - mu) / sd).astype(np.float32)
    y = y.astype(np.float32).reshape(-1, 1)
    return X[tr], y[tr], X[te], y[te]


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with ad.no_grad():
        p = model(ad.tensor(X)).data > 0
    model.train()
    return float((p == (y > 0.5)).mean())


def main(argv: list[str] | None = None) -> Result:
    p = argparse.ArgumentParser(description=" ".join(__doc__.splitlines()[:2]))
    p.add_argument("--layers", type=int, nargs="+", default=[20, 7, 5], help="hidden units")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate (the course's alpha)")
    p.add_argument("--epochs", "--iterations", type=int, default=300,
                   help="passes over the training set (the course's iterations)")
    p.add_argument("--batch-size", type=int, default=64, help="minibatch size (0: full batch)")
    p.add_argument("--momentum", type=float, default=0.9,
                   help="the course's beta: v = beta v + (1 - beta) dW (0: no momentum)")
    p.add_argument("--lambd", type=float, default=0.5,
                   help="the course's L2 lambda: cost + lambd / (2 m) * sum of squared weights")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--decay-rate", type=float, default=0.0,
                   help="inverse-time learning-rate decay per epoch (0: off)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--print-every", type=int, default=50)
    args = p.parse_args(argv)

    ad.manual_seed(args.seed)
    Xtr, ytr, Xte, yte = load_data(args.seed)
    model = build(Xtr.shape[1], args.layers, args.dropout)
    opt = make_optimizer(model, args.lr, args.momentum, args.lambd, len(ytr))
    sched = nn.optim.lr_scheduler.InverseTimeDecay(opt, args.decay_rate)
    bs = args.batch_size or len(ytr)
    loader = nn.data.DataLoader(nn.data.TensorDataset(Xtr, ytr), batch_size=bs, shuffle=True,
                                seed=args.seed)
    cost = float("nan")
    for epoch in range(args.epochs):
        total = 0.0
        for xb, yb in loader:
            total += train_step(model, opt, xb, yb) * len(yb)
        cost = total / len(ytr)
        sched.step()
        if args.print_every and (epoch % args.print_every == 0 or epoch == args.epochs - 1):
            print(f"epoch {epoch:4d}  cost {cost:.4f}  lr {sched.get_last_lr()[0]:.4g}")
    result = Result(accuracy(model, Xtr, ytr), accuracy(model, Xte, yte), cost)
    print(f"layers {[Xtr.shape[1], *args.layers, 1]}: train accuracy "
          f"{result.train_accuracy:.1%}, test accuracy {result.test_accuracy:.1%}")
    return result


if __name__ == "__main__":
    main()
