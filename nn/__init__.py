"""nn: neural networks built only from autodiff's public API.

>>> import autodiff as ad, nn
>>> import nn.functional as F
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> loss = F.cross_entropy(model(ad.randn(5, 4)), ad.tensor([0, 1, 2, 1, 0]))
>>> loss.backward()
>>> model[0].weight.grad.shape
(8, 4)
"""

# isort: off
from nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential, Summary, summary

# isort: on
from autodiff import __version__  # one version for the distribution (autodiff-nn)
from nn import data, functional, init, onnx, optim
from nn.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from nn.conv import Conv2d, ConvTranspose2d
from nn.dropout import Dropout, Dropout2d
from nn.linear import Flatten, Identity, Linear, Unflatten
from nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nn.serialization import load, load_metadata, save
from nn.upsample import Upsample

# isort: split
from nn.activation import SELU, Hardswish, LogSigmoid, Mish, PReLU, ReLU6, SiLU
from nn.embedding import Embedding
from nn.loss import (
    CosineEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    SmoothL1Loss,
)
from nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

# isort: split
from nn.attention import MultiheadAttention
from nn.transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout2d",
    "MaxPool2d", "Upsample",
    "ELU", "GELU", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout",
    "Flatten", "Identity", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module",
    "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Summary", "Tanh", "data", "functional", "init", "load", "load_metadata", "onnx",
    "optim", "save", "summary", "__version__",
    "Unflatten",
    "Hardswish", "LogSigmoid", "Mish", "PReLU", "ReLU6", "SELU", "SiLU",
    "Embedding",
    "CosineEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MarginRankingLoss",
    "SmoothL1Loss",
    "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer",
    "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell",
]

# isort: split
from nn import utils
from nn.activation import CELU, GLU, Hardtanh
from nn.conv1d import Conv1d
from nn.distance import CosineSimilarity, PairwiseDistance
from nn.group_instance_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d
from nn.loss import GaussianNLLLoss, PoissonNLLLoss, TripletMarginLoss
from nn.pooling import AdaptiveMaxPool2d
from nn.pooling1d import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d
from nn.unpool import MaxUnpool1d, MaxUnpool2d

__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "Conv1d",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "MaxPool1d", "MaxUnpool1d", "MaxUnpool2d",
]
__all__ += ["utils"]

# isort: split
from nn.unfold import Fold, PixelShuffle, PixelUnshuffle, Unfold  # noqa: E402

__all__ += ["Fold", "PixelShuffle", "PixelUnshuffle", "Unfold"]
__all__ += ["CosineSimilarity", "PairwiseDistance"]
__all__ += ["CELU", "GLU", "Hardtanh"]
__all__ += ["GaussianNLLLoss", "PoissonNLLLoss", "TripletMarginLoss"]

# isort: split
from nn.local_response_norm import LocalResponseNorm  # noqa: E402

__all__ += ["LocalResponseNorm"]

# isort: split
from nn.rrelu import RReLU  # noqa: E402

__all__ += ["RReLU"]

# isort: split
from nn.embedding_bag import EmbeddingBag  # noqa: E402

__all__ += ["EmbeddingBag"]

# isort: split
from nn.ctc_loss import CTCLoss  # noqa: E402

__all__ += ["CTCLoss"]

# isort: split
from nn.parameter_containers import ParameterDict, ParameterList  # noqa: E402

__all__ += ["ParameterDict", "ParameterList"]

# isort: split
from nn.transformer_decoder import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
)

__all__ += ["Transformer", "TransformerDecoder", "TransformerDecoderLayer"]

# isort: split
from nn.margin_loss import (  # noqa: E402
    HingeEmbeddingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    SoftMarginLoss,
    TripletMarginWithDistanceLoss,
)

__all__ += ["HingeEmbeddingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
            "MultiMarginLoss", "SoftMarginLoss", "TripletMarginWithDistanceLoss"]

# isort: split
from nn.lp_pool import LPPool1d, LPPool2d  # noqa: E402

__all__ += ["LPPool1d", "LPPool2d"]

# isort: split
from nn.conv1d import ConvTranspose1d  # noqa: E402

__all__ += ["ConvTranspose1d"]

# isort: split
from nn.conv3d import Conv3d, ConvTranspose3d  # noqa: E402

__all__ += ["Conv3d", "ConvTranspose3d"]

# isort: split
from nn.pooling3d import AdaptiveAvgPool3d, AvgPool3d, MaxPool3d  # noqa: E402

__all__ += ["AdaptiveAvgPool3d", "AvgPool3d", "MaxPool3d"]

# isort: split
from nn.normalization import BatchNorm3d  # noqa: E402

__all__ += ["BatchNorm3d"]

# isort: split
from nn.pooling3d import AdaptiveMaxPool3d  # noqa: E402

__all__ += ["AdaptiveMaxPool3d"]

# isort: split
from nn.unpool import MaxUnpool3d  # noqa: E402

__all__ += ["MaxUnpool3d"]

# isort: split
from nn.group_instance_norm import InstanceNorm3d  # noqa: E402

__all__ += ["InstanceNorm3d"]

# isort: split
from nn.dropout import Dropout3d  # noqa: E402

__all__ += ["Dropout3d"]

# isort: split
from nn.lp_pool import LPPool3d  # noqa: E402

__all__ += ["LPPool3d"]
