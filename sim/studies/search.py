"""CMA-ES, the search that copes with many coefficients at once (Hansen 2016).

The covariance matrix adaptation evolution strategy samples a population from a
multivariate normal, ranks it by the loss, and moves the mean toward the better half
while it learns the shape of the valley (the covariance) and the step size. It needs no
gradient and tolerates the noise of simulated losses; with common random numbers a
few replications per candidate suffice. Coefficients are searched in the unit box
spanned by their ranges; samples outside are clipped back in (repair), and the clipped
point is what is evaluated and told.

Hansen, N. (2016). The CMA Evolution Strategy: A Tutorial. arXiv:1604.00772.
"""

from __future__ import annotations

import numpy as np


class CMAES:
    """Minimise over the unit box [0, 1]^n with a (mu/mu_w, lambda)-CMA-ES.

    Attributes:
        mean: (n,) current centre of the search distribution.
        sigma: current step size (in units of the box).
        population: candidates per generation (lambda).
    """

    def __init__(self, mean: np.ndarray, sigma: float, population: int, seed: int):
        n = len(mean)
        self.n, self.mean, self.sigma = n, np.clip(np.asarray(mean, float), 0, 1), float(sigma)
        self.population = population
        self.rng = np.random.default_rng(seed)
        mu = population // 2
        weights = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
        self.weights = weights / weights.sum()
        self.mu = mu
        self.mueff = 1.0 / np.sum(self.weights**2)
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)
        self.c1 = 2 / ((n + 1.3) ** 2 + self.mueff)
        self.cmu = min(1 - self.c1, 2 * (self.mueff - 2 + 1 / self.mueff)
                       / ((n + 2) ** 2 + self.mueff))
        self.damps = 1 + 2 * max(0.0, np.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs
        self.chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
        self.pc, self.ps = np.zeros(n), np.zeros(n)
        self.C = np.eye(n)
        self.generation = 0

    def ask(self) -> np.ndarray:
        """(population, n) candidates inside the box."""
        values, vectors = np.linalg.eigh(self.C)
        scale = vectors * np.sqrt(np.maximum(values, 1e-20))
        z = self.rng.standard_normal((self.population, self.n))
        return np.clip(self.mean + self.sigma * z @ scale.T, 0.0, 1.0)

    def tell(self, candidates: np.ndarray, losses: np.ndarray) -> None:
        """Update the distribution from evaluated candidates (lower loss is better)."""
        order = np.argsort(losses, kind="stable")
        best = candidates[order[: self.mu]]
        old = self.mean
        self.mean = self.weights @ best
        values, vectors = np.linalg.eigh(self.C)
        inv_sqrt = vectors @ np.diag(1 / np.sqrt(np.maximum(values, 1e-20))) @ vectors.T
        step = (self.mean - old) / self.sigma
        self.ps = (1 - self.cs) * self.ps + np.sqrt(self.cs * (2 - self.cs) * self.mueff) * (
            inv_sqrt @ step)
        self.generation += 1
        norm = np.linalg.norm(self.ps) / np.sqrt(1 - (1 - self.cs) ** (2 * self.generation))
        hsig = norm < (1.4 + 2 / (self.n + 1)) * self.chi_n
        self.pc = (1 - self.cc) * self.pc + hsig * np.sqrt(
            self.cc * (2 - self.cc) * self.mueff) * step
        deviations = (best - old) / self.sigma
        self.C = ((1 - self.c1 - self.cmu) * self.C
                  + self.c1 * (np.outer(self.pc, self.pc)
                               + (1 - hsig) * self.cc * (2 - self.cc) * self.C)
                  + self.cmu * (deviations.T * self.weights) @ deviations)
        self.C = (self.C + self.C.T) / 2
        self.sigma *= np.exp((self.cs / self.damps) * (norm / self.chi_n - 1))
        self.sigma = float(min(self.sigma, 1.0))


__all__ = ["CMAES"]
