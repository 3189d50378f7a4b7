//! Seeded randomness whose output is the same, bit for bit, on every platform and forever.
//!
//! No `rand`: its algorithms and sampling code may change between versions, and a demo
//! scenario must stay reproducible from its seed. For the same reason, no `f64::ln`/`exp`:
//! those call the platform's libm, whose last-bit rounding differs between systems. The
//! helpers here use only `+ - * /` and bit manipulation, which IEEE 754 defines exactly.

/// 2^64 / φ, the SplitMix64 increment.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijection on `u64` that scatters every input bit.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood, 2014): tiny, fast, passes BigCrush, and fully defined
/// by the few lines below.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for one independent stream of a seed. `parts` name the stream (a site
    /// index, a day, a purpose tag), so that adding a stream never shifts another one: each
    /// piece of the scenario draws from its own generator.
    pub(crate) fn stream(seed: u64, parts: &[u64]) -> Self {
        let mut h = mix(seed ^ 0x5E41_5E40_0000_0001);
        for &p in parts {
            h = mix(h ^ mix(p.wrapping_add(GOLDEN)));
        }
        Rng { state: h }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0). Lemire's multiply-shift; its bias, below
    /// n / 2^64, is irrelevant here.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform signed offset in `-span..=span`.
    pub(crate) fn jitter(&mut self, span: i64) -> i64 {
        self.below(2 * span as u64 + 1) as i64 - span
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// An element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// Log-uniform integer in `lo..=hi` (`lo >= 1`): byte counts and durations spread over
    /// orders of magnitude, as real traffic does.
    pub(crate) fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = log2(hi as f64 / lo as f64);
        let v = lo as f64 * exp2(self.unit() * span);
        (v as u64).clamp(lo, hi)
    }

    /// Exponentially distributed gap (microseconds) with the given mean: the time to the
    /// next event of a Poisson process. Benign background traffic uses these so that it is
    /// never periodic; only the intruder's beacon is.
    pub(crate) fn exp_gap(&mut self, mean_us: f64) -> i64 {
        // 1 - unit() is in (0, 1], so ln is finite.
        let g = -mean_us * ln(1.0 - self.unit());
        (g as i64).max(1)
    }

    /// An integer whose mean is `lambda`: ⌊λ·(0.5 + u)⌋ plus a Bernoulli for the fraction.
    /// Counts per terminal and day; cheaper than a Poisson draw and free of `exp`.
    pub(crate) fn count(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        let x = lambda * (0.5 + self.unit());
        let whole = x as u64;
        whole + u64::from(self.chance(x - whole as f64))
    }

    /// Index drawn from cumulative integer weights (`cum` ascending, last = total).
    pub(crate) fn weighted(&mut self, cum: &[u32]) -> usize {
        let total = *cum.last().unwrap_or(&0);
        let r = self.below(u64::from(total)) as u32;
        cum.iter().position(|&c| r < c).unwrap_or(cum.len() - 1)
    }
}

const LN_2: f64 = std::f64::consts::LN_2;

/// Natural logarithm of a positive, finite, normal `x`, from basic arithmetic only.
/// Accurate to about 1e-12 relative: ample for sampling, and identical everywhere.
pub(crate) fn ln(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52)); // [1, 2)
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2·atanh(s), s = (m-1)/(m+1), |s| <= 0.172: the series converges fast.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = s;
    let mut k = 3.0;
    while k < 18.0 {
        term *= s2;
        sum += term / k;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN_2
}

/// Base-2 logarithm, see [`ln`].
pub(crate) fn log2(x: f64) -> f64 {
    ln(x) / LN_2
}

/// 2^x for x in about -1000..1000, from basic arithmetic only.
pub(crate) fn exp2(x: f64) -> f64 {
    let i = x.floor();
    let f = (x - i) * LN_2; // in [0, ln 2)
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=12 {
        term *= f / f64::from(k);
        sum += term;
    }
    sum * f64::from_bits(((i as i64 + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::stream(7, &[1, 2]);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::stream(7, &[1, 2]);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(a[0], Rng::stream(7, &[1, 3]).next_u64());
        assert_ne!(a[0], Rng::stream(8, &[1, 2]).next_u64());
        // Pinned: a change to the generator would silently change every scenario. The
        // first is SplitMix64's published first output for state 0.
        assert_eq!(Rng { state: 0 }.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(Rng::stream(0, &[]).next_u64(), 0xadef415a01f8aea9);
    }

    #[test]
    fn hand_written_ln_and_exp2_match_libm_closely() {
        for &x in &[
            1e-12, 0.001, 0.3, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e9,
        ] {
            let want = f64::ln(x);
            assert!(
                (ln(x) - want).abs() <= 1e-13 * want.abs().max(1.0),
                "ln({x})"
            );
        }
        for &x in &[-20.5, -1.0, 0.0, 0.25, 1.0, 3.7, 20.0, 40.123] {
            let want = f64::exp2(x);
            assert!((exp2(x) - want).abs() <= 1e-11 * want, "exp2({x})");
        }
    }

    #[test]
    fn samplers_stay_in_range_and_have_the_right_mean() {
        let mut r = Rng::stream(1, &[]);
        let mut sum = 0.0;
        for _ in 0..20_000 {
            let v = r.log_uniform(100, 1_000_000);
            assert!((100..=1_000_000).contains(&v));
            let j = r.jitter(5);
            assert!((-5..=5).contains(&j));
            sum += r.exp_gap(1000.0) as f64;
        }
        let mean = sum / 20_000.0;
        assert!((900.0..1100.0).contains(&mean), "mean gap {mean}");
        let total: u64 = (0..20_000).map(|_| r.count(3.3)).sum();
        let mean = total as f64 / 20_000.0;
        assert!((3.2..3.4).contains(&mean), "mean count {mean}");
    }
}
