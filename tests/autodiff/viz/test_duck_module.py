"""Clusters from any object with named_modules()/named_parameters(): autodiff needs no nn."""

import re

import autodiff as ad
from autodiff import viz


class Dense:
    def __init__(self, n_in, n_out):
        self.weight = ad.ones((n_out, n_in), requires_grad=True)
        self.bias = ad.zeros(n_out, requires_grad=True)

    def named_modules(self, prefix=""):
        return [(prefix, self)]

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        return ad.tanh(x @ self.weight.T + self.bias)


class Net:
    def __init__(self):
        self.layers = {"first": Dense(3, 4), "second": Dense(4, 1)}

    def named_modules(self):
        return [("", self)] + [(k, m) for k, m in self.layers.items()]

    def named_parameters(self):
        return [(f"{k}.{n}", p) for k, m in self.layers.items()
                for n, p in m.named_parameters()]

    def __call__(self, x):
        return self.layers["second"](self.layers["first"](x))


def test_duck_typed_model_names_clusters_and_collapse():
    net = Net()
    with viz.trace(net):
        loss = net(ad.ones((2, 3))).sum()
    text = viz.to_dot(loss, model=net)
    assert "first.weight\\n(4, 3) float32" in text and "second.bias\\n(1,) float32" in text
    assert 'subgraph "cluster_first"' in text and 'subgraph "cluster_second"' in text
    collapsed = viz.to_dot(loss, model=net, depth=1)
    labels = re.findall(r'label="([^"]*)"', collapsed)
    assert "first: Dense\\nin (2, 3)\\nout (2, 4)\\n16 parameters" in labels
    assert "second: Dense\\nin (2, 4)\\nout (2, 1)\\n5 parameters" in labels
    assert not any(label.startswith("tanh") for label in labels)
