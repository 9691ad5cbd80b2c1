# Python bindings (python/): the same numbers as the `slid` program on the shipped model and samples,
# NumPy buffers read in place, options with the C++ defaults, library errors as slid.Error, training.
import json
import os
import subprocess
import wave

import numpy as np
import pytest

import slid
from conftest import MODEL, SAMPLES


def cli_identify(binary, paths):
    out = subprocess.run([binary, "identify", "--model", str(MODEL), "--json", *map(str, paths)],
                         check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return {r["path"]: r for r in rows}


def read_int16(path):
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


@pytest.fixture(scope="module")
def model():
    return slid.Model.load(MODEL)


def test_samples_present():
    assert len(SAMPLES) >= 5, SAMPLES


def test_model_info(model):
    info = model.info()
    assert info["format"] == "slid-model"
    assert info["languages"] == model.languages  # format 2: the header lists the names
    assert model.dim == info["feature_dim"] == 56
    assert model.frontend == slid.FrontendOptions(**model.frontend.to_dict())
    assert isinstance(model.summary, dict)
    g = model.gmm(model.languages[0])
    assert g.means.shape == (g.num_gauss, 56) and g.means.dtype == np.float32
    assert abs(float(g.weights.sum()) - 1) < 1e-3


def test_identify_file_equals_cli(model, slid_binary):
    cli = cli_identify(slid_binary, SAMPLES)
    for path in SAMPLES:
        r = model.identify(str(path))
        c = cli[str(path)]
        assert r.decision == c["language"], path
        by_lang = {s["language"]: s for s in c["scores"]}
        # The program prints doubles with round-trip precision and both run the same library code.
        for lang, score, post in zip(r.languages, r.scores, r.posteriors):
            assert score == by_lang[lang]["avg_loglik"], (path, lang)
            assert post == by_lang[lang]["posterior"], (path, lang)
        assert r.speech_seconds == c["speech_seconds"]
        assert r.audio_seconds == c["audio_seconds"]


def test_waveform_and_features_paths_equal_file_path(model):
    scorer = model.scorer()
    for path in SAMPLES:
        from_file = scorer.identify_file(path)
        model_rate = model.frontend.sample_frequency  # 8000 for the shipped model, as the samples
        samples, rate = slid.read_audio(str(path), model_rate)
        assert samples.dtype == np.float32 and rate == model_rate
        from_wave = scorer.identify(samples, rate)
        pcm, pcm_rate = read_int16(path)
        from_int16 = scorer.identify_waveform(pcm, pcm_rate)
        from_feats = scorer.identify_features(model.features(samples, rate))
        for r in (from_wave, from_int16, from_feats):
            np.testing.assert_array_equal(r.scores, from_file.scores)
            np.testing.assert_array_equal(r.posteriors, from_file.posteriors)
            assert r.decision == from_file.decision


@pytest.mark.parametrize("stage", ["full", "mfcc", "sdc"])
def test_features_equal_cli(tmp_path, slid_binary, stage):
    path = SAMPLES[0]
    subprocess.run([slid_binary, "features", "--stage", stage, "--out-dir", str(tmp_path), "--quiet", str(path)],
                   check=True)
    expected = np.load(tmp_path / (path.stem + ".npy"))
    got = slid.compute_features(str(path), stage=stage)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    samples, rate = slid.read_audio(str(path))
    np.testing.assert_array_equal(slid.compute_features(samples, rate, stage=stage), expected)


def test_resampled_waveform_equals_file_read_at_model_rate(model):
    # A waveform at another rate is resampled by the library (libsoxr), as the file reader does.
    samples, rate = slid.read_audio(str(SAMPLES[0]), 8000)
    feats = model.features(samples, rate)
    assert feats.shape[1] == 56 and feats.shape[0] > 0


def test_float32_c_order_input_is_not_copied():
    a = np.random.default_rng(0).standard_normal((300, 56)).astype(np.float32)
    address, copied = slid._slid._float32_view(a)
    assert address == a.ctypes.data and not copied
    # Anything else is converted: the check above can fail.
    for other in (a.astype(np.float64), np.asfortranarray(a), a[::2], a.astype(">f4")):
        address, copied = slid._slid._float32_view(other)
        assert copied and address != other.ctypes.data
    # Outputs share the library's buffer: NumPy does not own a copy.
    feats = slid.compute_features(str(SAMPLES[0]))
    assert not feats.flags.owndata and feats.base is not None


def test_options_defaults_and_repr():
    fo = slid.FrontendOptions()
    assert fo.num_ceps == 7 and fo.frame_shift == 10.0 and fo.window_type == "povey" and fo.use_sdc is True
    assert fo.dim() == 56
    fo2 = slid.FrontendOptions(num_ceps=13, use_energy=True, sdc_n=7)
    assert fo2.num_ceps == 13 and fo2.use_energy is True
    assert "num_ceps=13" in repr(fo2) and repr(fo).startswith("FrontendOptions(")
    em = slid.EmOptions()
    assert (em.num_gauss, em.max_iters, em.tol, em.seed, em.init) == (256, 20, 1e-4, 0, "kmeans")
    assert slid.EmOptions(num_gauss=8, init="split").to_dict()["init"] == "split"
    assert "num_gauss=256" in repr(em) and "var_floor_rel=0.001," in repr(em)
    so = slid.ScorerOptions(min_speech_seconds=1.0)
    assert so.min_speech_seconds == 1.0 and so.posterior_scale == 1.0 and so.languages == []
    with pytest.raises(TypeError):
        slid.EmOptions(num_gaus=8)
    with pytest.raises(TypeError):
        slid.FrontendOptions(no_such_option=1)


def test_errors_are_slid_error(model, tmp_path):
    assert issubclass(slid.Error, RuntimeError)
    with pytest.raises(slid.Error, match="nope.slid"):
        slid.Model.load(tmp_path / "nope.slid")
    bad = tmp_path / "bad.slid"
    bad.write_bytes(b"not a model at all, just some bytes")
    with pytest.raises(slid.Error, match="not a slid model"):
        slid.Model.load(bad)
    with pytest.raises(slid.Error, match="dims"):
        model.identify(np.zeros((10, 13), np.float32))
    with pytest.raises(slid.Error, match="missing.wav"):
        model.identify(str(tmp_path / "missing.wav"))
    with pytest.raises(slid.Error, match="num-ceps"):
        slid.FrontendOptions(num_ceps=40).validate()
    with pytest.raises(slid.Error, match="window"):
        slid.FrontendOptions(window_type="triangle").validate()
    with pytest.raises(slid.Error, match="nosuch"):
        model.scorer(languages=["nosuch"])
    with pytest.raises(slid.Error, match="no language"):
        model.gmm("xx")
    with pytest.raises(slid.Error, match="NaN or infinite"):
        slid.compute_features(np.full(16000, np.nan, np.float32), 16000)
    with pytest.raises(ValueError):
        slid.compute_features(np.zeros((2, 2, 2), np.float32), 16000)


def test_short_and_silent_input_give_no_decision(model):
    r = model.identify(np.zeros(100, np.float32), 16000)
    assert r.decision is None and r.too_little_speech and r.num_frames == 0 and len(r.scores) == 0
    assert slid.compute_features(np.zeros(100, np.int16), 16000).shape == (0, 56)


def blobs(rng, centre, n):
    return (rng.standard_normal((n, 56)) + centre).astype(np.float32)


def test_no_speech_and_unknown(model):
    rate = model.frontend.sample_frequency
    noise = (np.random.default_rng(1).standard_normal(3 * rate) * 2000).astype(np.float32)
    r = model.identify(noise, rate)
    assert r.no_speech and r.too_little_speech and r.decision is None and not r.unknown
    assert r.to_dict()["no_speech"] is True
    samples, _ = slid.read_audio(str(SAMPLES[0]), rate)
    plain = model.scorer().identify(samples, rate)
    assert plain.decision is not None and not plain.no_speech and not plain.unknown
    top = max(plain.posteriors)
    u = model.scorer(unknown_threshold=min(1.0, top + 1e-9)).identify(samples, rate)
    assert u.unknown and u.decision is None and u.to_dict()["unknown"] is True
    assert model.scorer(unknown_threshold=top).identify(samples, rate).decision == plain.decision
    assert slid.FrontendOptions().vad_min_snr_db == 6.0 and slid.FrontendOptions().vad_snr_min_frames == 20


def test_train_arrays_save_load_identify(tmp_path):
    rng = np.random.default_rng(1)
    centres = {"aa": np.zeros(56), "bb": np.full(56, 3.0)}
    data = {lang: [blobs(rng, c, 700), blobs(rng, c, 900)] for lang, c in centres.items()}
    em = slid.EmOptions(num_gauss=4, max_iters=6, seed=3)
    seen = []
    model = slid.train_arrays(data, em=em, progress=lambda lang, p: seen.append((lang, p["avg_loglik"])))
    assert model.languages == ["aa", "bb"]
    assert model.summary["languages"]["aa"]["frames"] == 1600
    for lang in ("aa", "bb"):  # EM never lowers the training log-likelihood
        ll = [v for l, v in seen if l == lang]
        assert ll and all(b >= a - 1e-4 * abs(a) for a, b in zip(ll, ll[1:]))
    # A list of arrays is the same training data as their concatenation.
    joined = slid.train_arrays({k: np.concatenate(v) for k, v in data.items()}, em=em)
    for lang in model.languages:
        np.testing.assert_array_equal(model.gmm(lang).means, joined.gmm(lang).means)
    test = {lang: blobs(rng, c, 200) for lang, c in centres.items()}
    for lang, feats in test.items():
        assert model.identify(feats).decision == lang
    path = tmp_path / "m.slid"
    model.save(path)
    loaded = slid.Model.load(path)
    np.testing.assert_array_equal(loaded.identify(test["aa"]).scores, model.identify(test["aa"]).scores)
    with pytest.raises(slid.Error, match="columns"):
        slid.train_arrays({"aa": np.zeros((10, 13), np.float32)})


def test_train_gmm_matches_its_own_average_loglik():
    rng = np.random.default_rng(2)
    x = blobs(rng, 0.0, 2000)
    gmm, summary = slid.train_gmm(x, slid.EmOptions(num_gauss=2, max_iters=3))
    assert gmm.num_gauss == 2 and gmm.dim == 56 and summary["frames"] == 2000
    # The model's own average log-likelihood of its data is at least the single-Gaussian fit's.
    mu, var = x.mean(0), x.var(0)
    single = float(np.mean(-0.5 * (np.log(2 * np.pi * var) + (x - mu) ** 2 / var).sum(1)))
    assert gmm.average_log_likelihood(x) >= single - 1e-3


# --- The data-set drivers (slid/train.h, slid/evaluate.h) against the program that wraps them.

@pytest.fixture(scope="module")
def sample_list(tmp_path_factory):
    """The shipped samples as a TSV list, labelled by their file-name prefix (es-co -> es, ...)."""
    path = tmp_path_factory.mktemp("data") / "samples.tsv"
    path.write_text("".join(f"{p}\t{p.name.split('-')[0]}\n" for p in SAMPLES))
    return path


def test_train_equals_cli(tmp_path, slid_binary, sample_list):
    out = tmp_path / "cli.slid"
    subprocess.run([slid_binary, "train", str(sample_list), "-o", str(out), "--num-gauss", "4", "--iters", "2",
                    "--seed", "5", "-q"], check=True)
    events = []
    res = slid.train(str(sample_list), em=slid.EmOptions(num_gauss=4, max_iters=2, seed=5),
                     progress=lambda kind, text: events.append(kind))
    assert isinstance(res, slid.TrainResult) and res.files_used == len(SAMPLES) and not res.skipped
    assert "phase_start" in events and "milestone" in events
    cli = slid.Model.load(out)
    assert res.model.languages == cli.languages == ["en", "es", "fr", "it", "ru"]
    for lang in cli.languages:
        for field in ("weights", "means", "variances"):
            np.testing.assert_array_equal(getattr(res.model.gmm(lang), field), getattr(cli.gmm(lang), field))
    with pytest.raises(slid.Error, match="nowhere"):
        slid.train(str(tmp_path / "nowhere"))


def test_evaluate_equals_cli(tmp_path, slid_binary, model, sample_list):
    subprocess.run([slid_binary, "eval", "--model", str(MODEL), str(sample_list), "--out-dir", str(tmp_path), "-q"],
                   check=True)
    report = json.loads((tmp_path / "report.json").read_text())
    got = slid.evaluate(model, str(sample_list))
    assert got["languages"] == report["languages"]
    assert got["num_utterances"] == report["num_utterances"] == len(SAMPLES)
    for key in ("num_trials", "accuracy", "eer", "cavg", "confusion"):
        assert got["overall"][key] == report["overall"][key], key
    assert set(got["by_duration"]) == set(report["by_duration"])
    by_id = {e["id"]: e for e in got["entries"]}
    assert len(by_id) == len(SAMPLES)
    first = model.identify(str(SAMPLES[0]))
    entry = next(e for e in got["entries"] if e["id"].endswith(SAMPLES[0].name))
    assert entry["decision"] == first.decision and entry["scores"] == list(first.scores)


def test_default_vad_is_the_log_energy_rule_of_torchaudio_fbank():
    """The default VAD (vad-log-energy, threshold 5.5 + 0.5 x mean) keeps exactly the frames whose
    torchaudio.compliance.kaldi.fbank log-energy (use_energy=True, raw energy, dither 0) passes that rule
    -- the rule of the Python peer of issue 13 and of Kaldi's lre07 vad.conf."""
    torch = pytest.importorskip("torch")
    kaldi = pytest.importorskip("torchaudio.compliance.kaldi")
    fo = slid.FrontendOptions()
    assert fo.vad_log_energy and fo.vad_energy_threshold == 5.5
    differs = 0
    for path in SAMPLES:
        x, rate = slid.read_audio(str(path), 16000)
        x = np.asarray(x, np.float32)
        fb = kaldi.fbank(torch.from_numpy(x.copy()).unsqueeze(0), num_mel_bins=23, use_energy=True, dither=0.0,
                         sample_frequency=16000, energy_floor=0.0).numpy()
        energy = fb[:, 0].astype(np.float64)
        mask = energy > 5.5 + 0.5 * energy.mean()
        all_frames = np.asarray(slid.compute_features(x, 16000, stage="sdc"))
        assert all_frames.shape[0] == energy.shape[0]
        # Frames within 1e-3 of the threshold may fall either way (float32 vs float64 sums).
        margin = np.abs(energy - (5.5 + 0.5 * energy.mean())) > 1e-3
        voiced = np.asarray(slid.compute_features(x, 16000))
        assert voiced.shape[0] == pytest.approx(mask.sum(), abs=int((~margin).sum()))
        if margin.all():
            np.testing.assert_array_equal(voiced, all_frames[mask])
        # The C0 rule of older models (vad-log-energy=false) is another decision.
        old = np.asarray(slid.compute_features(x, 16000, options=slid.FrontendOptions(vad_log_energy=False)))
        differs += old.shape[0] != voiced.shape[0] or not np.array_equal(old, voiced)
    assert differs > 0
