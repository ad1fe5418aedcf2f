//! The logs' randomness: a seed per (log, time bucket, slot) and a small stream of draws from it,
//! and the few functions of real numbers the counts need, written with `+ - × ÷` and `sqrt`
//! only (IEEE-exact on every machine, unlike the platform's `exp` and `ln`), so the same scenario
//! gives the same events everywhere.

/// Mixes `parts` into one well-spread 64-bit value (splitmix64 over each part in turn).
pub(crate) fn seed_of(parts: &[u64]) -> u64 {
    let mut x = 0x243F_6A88_85A3_08D3_u64;
    for part in parts {
        x = finalize(x ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
    x
}

fn finalize(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A stream of draws from one seed (splitmix64): cheap to start, so every event has its own.
#[derive(Debug, Clone)]
pub(crate) struct Draws(u64);

impl Draws {
    /// The stream of `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0), without modulo bias worth the name (128-bit product).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    pub(crate) fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    /// Uniform in `[0, 1)`, 53 bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Uniform in `lo..hi` (`lo` when empty).
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + i64::try_from(self.below(hi.abs_diff(lo))).unwrap_or(0)
    }
}

/// `e^x`, for `x` in about `-700..700`: range reduction by powers of two, then a Taylor series.
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < -700.0 {
        return 0.0;
    }
    if x > 700.0 {
        return f64::INFINITY;
    }
    // e^x = (e^(x / 2^k))^(2^k) with |x / 2^k| < 1/16.
    let mut k = 0;
    let mut r = x;
    while r.abs() > 0.0625 {
        r /= 2.0;
        k += 1;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=14 {
        term *= r / f64::from(n);
        sum += term;
    }
    for _ in 0..k {
        sum *= sum;
    }
    sum
}

/// Natural logarithm of a positive `x`: `x = m · 2^e` from its bits, then
/// `ln m = 2 atanh((m - 1)/(m + 1))` as a series.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let mut m = x;
    let mut e = 0i32;
    while m >= 2.0 {
        m /= 2.0;
        e += 1;
    }
    while m < 1.0 {
        m *= 2.0;
        e -= 1;
    }
    // Centre m on 1 (m in [0.707, 1.414)) for a faster series.
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut n = 1.0;
    while n < 60.0 {
        sum += term / n;
        term *= s2;
        n += 2.0;
    }
    2.0 * sum + f64::from(e) * std::f64::consts::LN_2
}

/// A standard normal quantile for `p` in (0, 1) (Acklam's rational approximation, relative error
/// about 1e-9, ample for counting events).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * ln(p)).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * ln(1.0 - p)).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A Poisson draw of mean `lambda` from one uniform `u` in `[0, 1)`: exact inversion below a mean
/// of 64, the normal approximation (with continuity correction) above, where the two differ by
/// less than the noise.
pub(crate) fn poisson(lambda: f64, u: f64) -> u32 {
    if lambda <= 0.0 || lambda.is_nan() {
        return 0;
    }
    if lambda < 64.0 {
        let mut p = exp(-lambda);
        let mut cumulative = p;
        let mut k = 0u32;
        while u > cumulative && k < 1000 {
            k += 1;
            p *= lambda / f64::from(k);
            cumulative += p;
        }
        return k;
    }
    let x = lambda + lambda.sqrt() * normal_quantile(u) + 0.5;
    if x <= 0.0 {
        0
    } else {
        x.min(f64::from(u32::MAX)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_ln_agree_with_the_platform_closely() {
        for x in [-50.0, -10.0, -1.0, -0.5, -1e-3, 0.0, 0.3, 1.0, 7.5, 40.0] {
            let ours = exp(x);
            let theirs = f64::exp(x);
            assert!(
                (ours - theirs).abs() <= theirs * 1e-12,
                "exp({x}) = {ours} vs {theirs}"
            );
        }
        for x in [1e-300, 1e-10, 0.01, 0.5, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300] {
            let ours = ln(x);
            let theirs = f64::ln(x);
            assert!(
                (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0),
                "ln({x}) = {ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn poisson_draws_have_the_asked_mean_and_spread() {
        for lambda in [0.01_f64, 0.7, 3.0, 30.0, 64.0, 700.0, 20_000.0] {
            let mut draws = Draws::new(seed_of(&[7, lambda.to_bits()]));
            let n = 20_000;
            let samples: Vec<f64> = (0..n).map(|_| f64::from(poisson(lambda, draws.unit()))).collect();
            let mean = samples.iter().sum::<f64>() / f64::from(n);
            let variance = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / f64::from(n);
            let error = (lambda / f64::from(n)).sqrt() * 5.0 + 1e-3;
            assert!((mean - lambda).abs() < error, "mean {mean} for {lambda}");
            assert!(
                (variance / lambda - 1.0).abs() < 0.1,
                "variance {variance} for {lambda}"
            );
        }
    }

    #[test]
    fn draws_are_uniform_and_bounded() {
        let mut draws = Draws::new(1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[draws.index(10)] += 1;
        }
        assert!(counts.iter().all(|c| (9_500..10_500).contains(c)), "{counts:?}");
        assert_eq!(draws.below(0), 0);
        assert_eq!(draws.between(5, 5), 5);
        assert!((0..1000).all(|_| (-3..4).contains(&draws.between(-3, 4))));
        assert_ne!(seed_of(&[1, 2]), seed_of(&[2, 1]));
    }
}
