"""nn.functional: the layers as functions (activations, linear, dropout, normalization,
losses), composed from autodiff ops.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.relu(ad.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from nn.functional.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logsigmoid,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from nn.functional.conv import conv2d, conv_transpose2d
from nn.functional.dropout import dropout, dropout2d
from nn.functional.interpolate import interpolate
from nn.functional.linear import linear
from nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from nn.functional.normalization import batch_norm, layer_norm
from nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

# isort: split
from nn.functional.activation import hardswish, mish, prelu, relu6, selu, silu
from nn.functional.lookup import embedding, one_hot
from nn.functional.loss import kl_div
from nn.functional.normalization import normalize
from nn.functional.padding import pad
from nn.functional.ranking_loss import cosine_embedding_loss, margin_ranking_loss
from nn.functional.regression_loss import huber_loss, l1_loss, smooth_l1_loss

# isort: split
from nn.functional.attention import scaled_dot_product_attention

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "conv2d", "conv_transpose2d", "dropout2d",
    "interpolate", "max_pool2d",
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "elu", "gelu", "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid",
    "mse_loss",
    "nll_loss", "relu", "sigmoid", "softmax", "softplus", "tanh",
    "hardswish", "mish", "prelu", "relu6", "selu", "silu",
    "embedding", "normalize", "one_hot", "pad",
    "cosine_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss",
    "smooth_l1_loss",
    "scaled_dot_product_attention",
]

# isort: split
from nn.functional.activation import celu, glu, hardtanh
from nn.functional.adaptive_pool import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
)
from nn.functional.conv_1d import conv1d
from nn.functional.distance import cosine_similarity, pairwise_distance
from nn.functional.group_instance_norm import group_norm, instance_norm
from nn.functional.likelihood_loss import gaussian_nll_loss, poisson_nll_loss
from nn.functional.pooling1d import avg_pool1d, max_pool1d
from nn.functional.ranking_loss import triplet_margin_loss
from nn.functional.unpool import max_unpool1d, max_unpool2d

__all__ += [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "avg_pool1d",
    "conv1d", "group_norm", "instance_norm", "max_pool1d", "max_unpool1d", "max_unpool2d",
]

# isort: split
from nn.functional.sliding_blocks import fold, unfold  # noqa: E402
from nn.functional.sub_pixel import pixel_shuffle, pixel_unshuffle  # noqa: E402

__all__ += ["fold", "pixel_shuffle", "pixel_unshuffle", "unfold"]
__all__ += ["cosine_similarity", "pairwise_distance"]
__all__ += ["celu", "glu", "hardtanh"]
__all__ += ["gaussian_nll_loss", "poisson_nll_loss", "triplet_margin_loss"]

# isort: split
from nn.functional.local_response_norm import local_response_norm  # noqa: E402

__all__ += ["local_response_norm"]

# isort: split
from nn.functional.inplace_activation import (  # noqa: E402
    celu_,
    elu_,
    hardtanh_,
    leaky_relu_,
    relu_,
    selu_,
)
from nn.functional.rrelu import rrelu, rrelu_  # noqa: E402

__all__ += ["celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu", "rrelu_", "selu_"]

# isort: split
from nn.functional.embedding_bag import embedding_bag  # noqa: E402

__all__ += ["embedding_bag"]

# isort: split
from nn.functional.ctc_loss import ctc_loss  # noqa: E402

__all__ += ["ctc_loss"]

# isort: split
from nn.functional.margin_loss import (  # noqa: E402
    hinge_embedding_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from nn.functional.ranking_loss import triplet_margin_with_distance_loss  # noqa: E402

__all__ += ["hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
            "multilabel_soft_margin_loss", "soft_margin_loss",
            "triplet_margin_with_distance_loss"]

# isort: split
from nn.functional.lp_pool import lp_pool1d, lp_pool2d  # noqa: E402

__all__ += ["lp_pool1d", "lp_pool2d"]

# isort: split
from nn.functional.conv_1d import conv_transpose1d  # noqa: E402

__all__ += ["conv_transpose1d"]

# isort: split
from nn.functional.spatial_transformer import affine_grid, grid_sample  # noqa: E402

__all__ += ["affine_grid", "grid_sample"]

# isort: split
from nn.functional.conv_3d import conv3d, conv_transpose3d  # noqa: E402

__all__ += ["conv3d", "conv_transpose3d"]

# isort: split
from nn.functional.pooling3d import adaptive_avg_pool3d, avg_pool3d, max_pool3d  # noqa: E402

__all__ += ["adaptive_avg_pool3d", "avg_pool3d", "max_pool3d"]

# isort: split
from nn.functional.pooling3d import adaptive_max_pool3d  # noqa: E402

__all__ += ["adaptive_max_pool3d"]

# isort: split
from nn.functional.unpool import max_unpool3d  # noqa: E402

__all__ += ["max_unpool3d"]

# isort: split
from nn.functional.dropout import dropout3d  # noqa: E402

__all__ += ["dropout3d"]

# isort: split
from nn.functional.lp_pool import lp_pool3d  # noqa: E402

__all__ += ["lp_pool3d"]
