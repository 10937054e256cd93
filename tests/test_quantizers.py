"""Tests of neurokit.nn.quantizers (vector and residual vector quantizers)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurokit.errors import InvalidParameterError  # noqa: E402
from neurokit.nn.quantizers import (  # noqa: E402
    QuantizerOutput,
    ResidualVectorQuantizer,
    VectorQuantizer,
    _rotation_trick,
)

BUFFERS = ("codebook", "cluster_size", "embed_sum", "initialized")


def clusters(n_centers=8, dim=16, n=2048, spread=5.0, noise=0.1, seed=0):
    """Points around ``n_centers`` fixed random centers; returns (points, centers)."""
    gen = torch.Generator().manual_seed(seed)
    centers = spread * torch.randn(n_centers, dim, generator=gen)
    labels = torch.randint(n_centers, (n,), generator=gen)
    return centers[labels] + noise * torch.randn(n, dim, generator=gen), centers


def buffers(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def same_buffers(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ outputs


@pytest.mark.parametrize("codebook_dim", [None, 8])
@pytest.mark.parametrize("gradient", ["ste", "rotation"])
def test_output_shapes_and_dtypes(codebook_dim, gradient):
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 32, codebook_dim=codebook_dim, gradient=gradient)
    x = torch.randn(3, 7, 16)
    out = vq(x)
    assert isinstance(out, QuantizerOutput)
    assert out.quantized.shape == x.shape and out.quantized.dtype == x.dtype
    assert out.codes.shape == (3, 7) and out.codes.dtype == torch.int64
    assert out.loss.shape == () and out.perplexity.shape == ()
    assert 1.0 <= float(out.perplexity) <= 21.0
    assert int(out.codes.min()) >= 0 and int(out.codes.max()) < 32
    assert vq.encode(x).shape == (3, 7)
    assert vq.decode(out.codes).shape == x.shape


def test_residual_output_shapes():
    torch.manual_seed(0)
    rvq = ResidualVectorQuantizer(16, 3, 32, codebook_dim=8)
    x = torch.randn(2, 5, 16)
    out = rvq(x)
    assert out.quantized.shape == x.shape
    assert out.codes.shape == (2, 5, 3) and out.codes.dtype == torch.int64
    assert int(out.codes.min()) >= 0 and int(out.codes.max()) < 32
    assert out.loss.shape == () and out.perplexity.shape == (3,)
    assert rvq.encode(x).shape == (2, 5, 3)
    assert rvq.decode(out.codes).shape == x.shape


@pytest.mark.parametrize("gradient", ["ste", "rotation"])
@pytest.mark.parametrize("l2_normalized", [False, True])
def test_decode_encode_matches_quantized_in_eval(gradient, l2_normalized):
    torch.manual_seed(0)
    x, _ = clusters(n=256)
    vq = VectorQuantizer(16, 64, codebook_dim=12, gradient=gradient, l2_normalized=l2_normalized)
    vq(x)  # one training step
    vq.eval()
    out = vq(x.reshape(16, 16, 16))
    assert torch.equal(vq.encode(x.reshape(16, 16, 16)), out.codes)
    assert torch.equal(vq.decode(vq.encode(x.reshape(16, 16, 16))), out.quantized)
    # deterministic in eval mode
    again = vq(x.reshape(16, 16, 16))
    assert torch.equal(again.quantized, out.quantized) and torch.equal(again.codes, out.codes)


def test_residual_decode_encode_matches_quantized_in_eval():
    torch.manual_seed(0)
    x, _ = clusters(n=512)
    rvq = ResidualVectorQuantizer(16, 3, 32, kmeans_init=True, gradient="rotation")
    rvq(x)
    rvq.eval()
    out = rvq(x)
    assert torch.equal(rvq.encode(x), out.codes)
    assert torch.equal(rvq.decode(out.codes), out.quantized)


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("gradient", ["ste", "rotation"])
def test_gradients_reach_input_and_projections(gradient):
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 32, codebook_dim=8, gradient=gradient)
    x = torch.randn(4, 6, 16, requires_grad=True)
    out = vq(x)
    (out.quantized.pow(2).sum() + out.loss).backward()
    assert x.grad is not None and x.grad.shape == x.shape and x.grad.abs().sum() > 0
    for layer in (vq.project_in, vq.project_out):
        assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    # the codebook is a buffer, never trained by gradients
    names = {name for name, _ in vq.named_parameters()}
    assert names == {
        "project_in.weight",
        "project_in.bias",
        "project_out.weight",
        "project_out.bias",
    }


@pytest.mark.parametrize("gradient", ["ste", "rotation"])
def test_residual_gradients_reach_input(gradient):
    torch.manual_seed(0)
    rvq = ResidualVectorQuantizer(16, 3, 32, codebook_dim=8, gradient=gradient)
    x = torch.randn(4, 6, 16, requires_grad=True)
    out = rvq(x)
    (out.quantized.pow(2).sum() + out.loss).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert rvq.project_in.weight.grad.abs().sum() > 0
    assert rvq.project_out.weight.grad.abs().sum() > 0


def test_rotation_gradient_differs_from_straight_through():
    torch.manual_seed(0)
    ste = VectorQuantizer(16, 32, gradient="ste").eval()
    rot = VectorQuantizer(16, 32, gradient="rotation").eval()
    rot.load_state_dict(ste.state_dict())
    x = torch.randn(5, 16)
    weight = torch.randn(5, 16)
    grads = []
    for vq in (ste, rot):
        xi = x.clone().requires_grad_(True)
        out = vq(xi)
        (out.quantized * weight).sum().backward()
        grads.append(xi.grad)
    assert grads[0].shape == grads[1].shape == x.shape
    assert torch.allclose(grads[0], weight)  # straight-through: identity
    assert not torch.allclose(grads[0], grads[1], atol=1e-3)


def test_rotation_trick_is_a_scaled_rotation_onto_the_code():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(1, 8, generator=gen, dtype=torch.float64)
    q = torch.randn(1, 8, generator=gen, dtype=torch.float64)
    out = _rotation_trick(z.clone().requires_grad_(True), q)
    assert torch.allclose(out, q)
    jac = torch.autograd.functional.jacobian(lambda v: _rotation_trick(v, q), z)[0, :, 0, :]
    scale = q.norm() / z.norm()
    # the Jacobian maps z onto q and is the scale times an orthogonal matrix
    assert torch.allclose(jac @ z[0], q[0])
    assert torch.allclose(jac.T @ jac, scale**2 * torch.eye(8, dtype=torch.float64))


# ------------------------------------------------------------------ codebook learning


def test_ema_updates_reduce_the_commitment_loss():
    torch.manual_seed(0)
    x, _ = clusters(n_centers=8, n=1024, spread=2.0, noise=0.3)
    vq = VectorQuantizer(16, 8, dead_code_threshold=0.0, commitment_weight=1.0, decay=0.8)
    losses = [float(vq(x).loss) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    assert losses[-1] <= min(losses[:5])


def test_dead_code_replacement_raises_usage():
    # Data far from the randomly initialized codes: without replacement only the few codes
    # pointing toward the data are ever chosen.
    x, _ = clusters(n_centers=32, n=2048, spread=3.0)
    x = x + 10.0
    used, mse = {}, {}
    for threshold in (0.0, 2.0):
        torch.manual_seed(0)
        vq = VectorQuantizer(16, 64, dead_code_threshold=threshold)
        for _ in range(10):
            vq(x)
        vq.eval()
        out = vq(x)
        used[threshold] = len(torch.unique(out.codes))
        mse[threshold] = float((out.quantized - x).pow(2).mean())
    assert used[2.0] >= 32 > 4 * used[0.0]
    assert mse[2.0] < 0.2 * mse[0.0]


def test_kmeans_init_places_codes_near_cluster_centers():
    torch.manual_seed(0)
    x, centers = clusters(n_centers=8, n=2048)
    vq = VectorQuantizer(16, 16, kmeans_init=True, dead_code_threshold=0.0)
    assert not bool(vq.initialized)
    vq(x)
    assert bool(vq.initialized)
    dist = torch.cdist(centers, vq.codebook)
    assert float(dist.min(dim=1).values.max()) < 0.5  # every center has a code close by
    assert float(dist.min(dim=0).values.max()) < 1.0  # no code far from the data


def test_l2_normalized_outputs_are_unit_norm():
    torch.manual_seed(0)
    x, _ = clusters(n=512)
    vq = VectorQuantizer(16, 32, l2_normalized=True, kmeans_init=True)
    for _ in range(3):
        out = vq(x)
    assert torch.allclose(out.quantized.norm(dim=-1), torch.ones(512), atol=1e-5)
    assert torch.allclose(vq.codebook.norm(dim=-1), torch.ones(32), atol=1e-5)
    vq.eval()
    assert torch.allclose(vq(3 * x).quantized.norm(dim=-1), torch.ones(512), atol=1e-5)


# ------------------------------------------------------------------ masks, modes, state


def test_masked_positions_do_not_touch_the_codebook_nor_the_loss():
    x, _ = clusters(n=512)
    mask = torch.rand(512, generator=torch.Generator().manual_seed(3)) > 0.3
    polluted = x.clone()
    polluted[~mask] = 1e3  # far outliers at the masked positions
    results = []
    for data, m in ((polluted, mask), (x[mask], None)):
        torch.manual_seed(0)
        vq = VectorQuantizer(16, 32, kmeans_init=True)
        outs = [vq(data, mask=m) for _ in range(3)]
        results.append((buffers(vq), outs[-1]))
    assert same_buffers(results[0][0], results[1][0])
    assert torch.allclose(results[0][1].loss, results[1][1].loss)
    assert torch.allclose(results[0][1].perplexity, results[1][1].perplexity)


def test_all_masked_batch_changes_nothing():
    torch.manual_seed(0)
    vq = VectorQuantizer(16, 32, kmeans_init=True)
    before = buffers(vq)
    out = vq(torch.randn(4, 8, 16), mask=torch.zeros(4, 8, dtype=torch.bool))
    assert same_buffers(before, buffers(vq))
    assert float(out.loss) == 0.0


def test_eval_mode_does_not_change_buffers():
    torch.manual_seed(0)
    x, _ = clusters(n=512)
    for module in (
        VectorQuantizer(16, 32, kmeans_init=True),
        VectorQuantizer(16, 32),
        ResidualVectorQuantizer(16, 2, 32, kmeans_init=True),
    ):
        module.eval()
        before = buffers(module)
        for _ in range(3):
            module(x)
        assert same_buffers(before, buffers(module))
        module.train()
        module(x)
        assert not same_buffers(before, buffers(module))


def test_training_changes_the_codebook():
    torch.manual_seed(0)
    x, _ = clusters(n=512)
    vq = VectorQuantizer(16, 32, dead_code_threshold=0.0)
    before = vq.codebook.clone()
    vq(x)
    assert not torch.equal(before, vq.codebook)


@pytest.mark.parametrize("module_kind", ["vq", "rvq"])
def test_state_dict_round_trip_gives_identical_codes(module_kind):
    torch.manual_seed(0)
    x, _ = clusters(n=512)
    if module_kind == "vq":
        make = lambda: VectorQuantizer(16, 32, codebook_dim=8, kmeans_init=True)  # noqa: E731
    else:
        make = lambda: ResidualVectorQuantizer(16, 3, 32, kmeans_init=True)  # noqa: E731
    trained = make()
    for _ in range(3):
        trained(x)
    trained.eval()
    torch.manual_seed(123)
    fresh = make()
    fresh.load_state_dict(trained.state_dict())
    fresh.eval()
    assert torch.equal(fresh.encode(x), trained.encode(x))
    assert torch.equal(fresh(x).quantized, trained(x).quantized)
    # a loaded, already initialized module does not run k-means again when trained
    fresh.train()
    assert bool(fresh.levels[0].initialized if module_kind == "rvq" else fresh.initialized)


def test_residual_error_decreases_with_each_level():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2048, 16, generator=gen)
    rvq = ResidualVectorQuantizer(16, 4, 32, kmeans_init=True)
    for _ in range(5):
        rvq(x)
    rvq.eval()
    codes = rvq.encode(x)
    errors = [float((x - rvq.decode(codes[:, : m + 1])).pow(2).mean()) for m in range(4)]
    assert all(b < a for a, b in zip([float(x.pow(2).mean())] + errors, errors))
    assert errors[-1] == pytest.approx(float((x - rvq(x).quantized).pow(2).mean()), rel=1e-5)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(dim=0), "dim"),
        (dict(codebook_size=0), "codebook_size"),
        (dict(codebook_size=2.5), "codebook_size"),
        (dict(codebook_dim=-1), "codebook_dim"),
        (dict(decay=1.0), "decay"),
        (dict(decay=0), "decay"),
        (dict(eps=0.0), "eps"),
        (dict(kmeans_iters=0), "kmeans_iters"),
        (dict(dead_code_threshold=-1.0), "dead_code_threshold"),
        (dict(commitment_weight=-0.1), "commitment_weight"),
        (dict(commitment_weight=float("nan")), "commitment_weight"),
        (dict(gradient="gumbel"), "gradient"),
    ],
)
def test_bad_parameters_raise(kwargs, name):
    args = dict(dim=16, codebook_size=32)
    args.update(kwargs)
    dim, size = args.pop("dim"), args.pop("codebook_size")
    with pytest.raises(InvalidParameterError) as err:
        VectorQuantizer(dim, size, **args)
    message = str(err.value)
    assert name in message and "received" in message
    assert repr(kwargs[name]) in message
    if name == "gradient":
        assert "'ste'" in message and "'rotation'" in message


def test_bad_residual_parameters_raise():
    with pytest.raises(
        InvalidParameterError, match=r"n_levels must be an integer >= 1; received 0"
    ):
        ResidualVectorQuantizer(16, 0, 32)
    with pytest.raises(InvalidParameterError, match="decay"):
        ResidualVectorQuantizer(16, 2, 32, decay=2.0)


def test_bad_inputs_raise():
    vq = VectorQuantizer(16, 32)
    with pytest.raises(
        InvalidParameterError, match=r"x must be .*\[\.\.\., 16\]; received \(4, 8\)"
    ):
        vq(torch.randn(4, 8))
    with pytest.raises(InvalidParameterError, match="mask must be a bool tensor of shape"):
        vq(torch.randn(4, 16), mask=torch.ones(4))
    with pytest.raises(InvalidParameterError, match="mask"):
        vq(torch.randn(4, 16), mask=torch.ones(5, dtype=torch.bool))
    with pytest.raises(InvalidParameterError, match=r"codes must lie in \[0, 31\]; received"):
        vq.decode(torch.tensor([0, 32]))
    with pytest.raises(InvalidParameterError, match="codes must be an integer tensor"):
        vq.decode(torch.tensor([0.0]))
    rvq = ResidualVectorQuantizer(16, 2, 32)
    with pytest.raises(InvalidParameterError, match="1 to 2 levels; received shape"):
        rvq.decode(torch.zeros(4, 3, dtype=torch.long))
