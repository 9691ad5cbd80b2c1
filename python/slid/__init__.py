"""slid: spoken language identification (MFCC/SDC features, one diagonal GMM per language).

    import slid
    model = slid.Model.load("models/default.slid")
    result = model.identify("models/samples/fr-conf-onlyperson.wav")
    print(result.decision, dict(zip(result.languages, result.posteriors)))

Waveforms are 1-D NumPy arrays on Kaldi's 16-bit scale (int16 as is; float audio in [-1, 1] times
32768). Feature matrices are float32 (frames x dims). float32 C-contiguous input is read in place;
returned arrays share the library's buffers. Library errors raise slid.Error.
"""
from ._slid import (  # noqa: F401
    DiagGmm,
    EmOptions,
    Error,
    Frontend,
    FrontendOptions,
    Model,
    Result,
    Scorer,
    ScorerOptions,
    __version__,
    compute_features,
    read_audio,
    train_arrays,
    train_gmm,
)

__all__ = [
    "DiagGmm", "EmOptions", "Error", "Frontend", "FrontendOptions", "Model", "Result", "Scorer",
    "ScorerOptions", "compute_features", "read_audio", "train_arrays", "train_gmm",
]
