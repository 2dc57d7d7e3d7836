import numpy as np
import pytest
import torch

from dptrain.diffusion import Diffusion
from dptrain.networks import Denoiser
from dptrain.schedules import cosine_betas, linear_betas, make_betas, reverse_constants, vp_betas


def test_vp_matches_closed_form_and_reference_values():
    T, b_min, b_max = 5, 0.1, 10.0
    ac = np.cumprod(1 - vp_betas(T))
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(ac, np.exp(-b_min * t / T - 0.5 * (b_max - b_min) * t**2 / T**2), rtol=1e-12)
    np.testing.assert_allclose(vp_betas(5), [0.19588, 0.45882, 0.63578, 0.75488, 0.83503], atol=1e-5)
    np.testing.assert_allclose(ac, [0.80413, 0.43518, 0.15850, 0.03885, 0.00641], atol=1e-5)


def test_cosine_matches_nichol_dhariwal_until_clip():
    T, s = 20, 0.008
    b = cosine_betas(T)
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(np.cumprod(1 - b)[: T - 1], f[1:T] / f[0], rtol=1e-10)
    assert b[-1] == pytest.approx(0.999)
    np.testing.assert_allclose(b[:3], [0.00799, 0.0201, 0.0323], atol=1e-4)
    assert np.cumprod(1 - b)[-1] == pytest.approx(6.06e-6, rel=1e-2)


def test_linear_and_unknown():
    np.testing.assert_allclose(linear_betas(4), [1e-4, (2e-2 - 1e-4) / 3 + 1e-4, 2 * (2e-2 - 1e-4) / 3 + 1e-4, 2e-2])
    with pytest.raises(ValueError, match="unknown noise schedule 'sigmoid'"):
        make_betas("sigmoid", 5)
    with pytest.raises(ValueError, match="unknown variance"):
        reverse_constants(vp_betas(5), "learned")


@pytest.mark.parametrize("name,T", [("vp", 5), ("cosine", 20), ("linear", 10)])
def test_reverse_constants_posterior(name, T):
    c = reverse_constants(make_betas(name, T))
    ac, b = c.alphas_cumprod, c.betas
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    x0, eps = 0.37, -0.8
    xt = np.sqrt(ac) * x0 + np.sqrt(1 - ac) * eps
    # x0 is recovered exactly from the true noise.
    np.testing.assert_allclose(c.sqrt_recip_alphas_cumprod * xt - c.sqrt_recipm1_alphas_cumprod * eps, x0, rtol=1e-9)
    # The posterior mean is Bayes' q(x_{t-1} | x_t, x0).
    alpha = 1 - b
    mean = (np.sqrt(ac_prev) * b * x0 + np.sqrt(alpha) * (1 - ac_prev) * xt) / (1 - ac)
    np.testing.assert_allclose(c.posterior_mean_coef1 * x0 + c.posterior_mean_coef2 * xt, mean, rtol=1e-12)
    assert c.noise_std[0] == 0.0 and np.all(c.noise_std[1:] > 0)
    np.testing.assert_allclose(c.noise_std[1:] ** 2, (b * (1 - ac_prev) / (1 - ac))[1:], rtol=1e-9)


def test_reverse_chain_is_a_function_of_its_noise():
    d = Diffusion(Denoiser(3, 2, hidden=16, t_hidden=16), "cosine", 20)
    obs = torch.randn(4, 3)
    noise = d.draw_noise(4)
    a, b = d.reverse_chain(obs, noise), d.reverse_chain(obs, noise)
    assert torch.equal(a, b)
    assert a.abs().max() <= 1.0
    assert not torch.equal(a, d.reverse_chain(obs, d.draw_noise(4)))


def test_ddpm_learns_a_bimodal_action_distribution():
    """Loss and reverse chain together: trained on actions +-0.6, samples land near the two modes, half each."""
    torch.manual_seed(0)
    d = Diffusion(Denoiser(1, 1, hidden=64, t_hidden=32, t_dim=16), "cosine", 20)
    opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    obs = torch.zeros(256, 1)
    for _ in range(1500):
        a = (torch.randint(0, 2, (256, 1)) * 2 - 1) * 0.6
        loss = d.loss(a.float(), obs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x = d.sample(torch.zeros(2000, 1))
    near = (x - 0.6).abs().lt(0.15) | (x + 0.6).abs().lt(0.15)
    assert near.float().mean() > 0.85, near.float().mean()
    assert 0.35 < (x > 0).float().mean() < 0.65
