//! A 4-lane AVX2 `exp` whose results are bit-for-bit those of the scalar
//! `f64::exp` (glibc `exp`) on the target machine.
//!
//! Rust's `f64::exp` calls glibc's `exp`; on x86-64 (glibc 2.36, Debian 12)
//! that is an IFUNC choosing between builds of one C routine (the
//! optimized-routines algorithm: a 128-entry table of `2^(i/128)`, a
//! round-to-nearest shift trick for `k = round(x * 128/ln2)`, a two-part
//! `ln2/128` reduction and a degree-5 polynomial). The builds differ only in
//! which multiply-adds the compiler fused:
//!
//! * `__exp_fma` (chosen when FMA and AVX2 are usable) fuses eight of them;
//! * `__exp_avx` / `__exp_sse2` (AVX or baseline CPUs) fuse none.
//!
//! [`exp4_fma`] and [`exp4_nofma`] replay the exact operation sequence of
//! each build, lane-wise. They were written from the disassembly of
//! `/lib/x86_64-linux-gnu/libm.so.6` (Debian glibc 2.36-9+deb12u14):
//!
//! ```text
//! __exp_fma (libm offset 0x6ebb0), fast path:
//!   vfmadd132sd InvLn2N,Shift,x     kd   = fma(x, InvLn2N, Shift)
//!   vmovq %xmm1,%rsi                ki   = bits(kd)
//!   vsubsd Shift,kd,kd              kd   = kd - Shift
//!   vfmadd231sd NegLn2hiN,kd,x      r    = fma(kd, NegLn2hiN, x)
//!   vfmadd231sd NegLn2loN,kd,r      r    = fma(kd, NegLn2loN, r)
//!   vfmadd213sd C2,r,C3             p23  = fma(r, C3, C2)
//!   vaddsd T[2i],r                  tr   = tail + r
//!   vmulsd r,r                      r2   = r * r
//!   vfmadd132sd C5,C4,r             p45  = fma(r, C5, C4)
//!   vfmadd132sd r2,tr,p23           t    = fma(p23, r2, tr)
//!   vmulsd r2,r2                    r4   = r2 * r2
//!   vfmadd132sd p45,t,r4            tmp  = fma(r4, p45, t)
//!   vfmadd132sd tmp,scale,scale     y    = fma(scale, tmp, scale)
//! __exp_sse2 (0x275f0) and __exp_avx (0x781e0): the same operations with
//!   every product rounded (mulsd then addsd), in source order:
//!   r = (x + kd*NegLn2hiN) + kd*NegLn2loN,
//!   tmp = ((tail + r) + r2*(C2 + r*C3)) + (r2*r2)*(C4 + r*C5),
//!   y = scale + scale*tmp.
//! ```
//!
//! Both builds take the fast path iff `2^-54 <= |x| < 512`; below it they
//! return `1.0 + x`, and every other argument (large `|x|`, whose result
//! needs a rescaled `specialcase`, NaN, infinities) goes through code the
//! vector routines do not replay: such lanes are computed with the scalar
//! `f64::exp` itself, so they match by construction.
//!
//! The constants and the table are the words of glibc's `__exp_data` object
//! (read from the same libm, at offset 0xaab20), reproduced as literals.
//!
//! Bit-exactness depends on the libm actually called at run time, so the
//! fast path is only used after [`fast_exp_kind`] has compared the variant
//! glibc's IFUNC would pick against `f64::exp` on a few thousand arguments
//! (once per process); on any mismatch the callers stay on `f64::exp`.

// Used by the kernels once they switch to it; until then only the tests call
// these items.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;
use std::sync::OnceLock;

/// `128 / ln 2` (`__exp_data.invln2N`).
const INV_LN2_N: u64 = 0x4067_1547_652b_82fe;
/// `-ln 2 / 128`, high part (`negln2hiN`); its 17 low mantissa bits are
/// zero, so `kd * NEG_LN2_HI_N` is exact for the `|kd| < 2^17` of the fast
/// path.
const NEG_LN2_HI_N: u64 = 0xbf76_2e42_fefa_0000;
/// `-ln 2 / 128`, low part (`negln2loN`).
const NEG_LN2_LO_N: u64 = 0xbd0c_f79a_bc9e_3b3a;
/// Polynomial coefficient of `r^2` (`poly[0]`, close to 1/2).
const C2: u64 = 0x3fdf_ffff_ffff_fdbd;
/// Polynomial coefficient of `r^3` (`poly[1]`, close to 1/6).
const C3: u64 = 0x3fc5_5555_5555_543c;
/// Polynomial coefficient of `r^4` (`poly[2]`, close to 1/24).
const C4: u64 = 0x3fa5_5555_cf17_2b91;
/// Polynomial coefficient of `r^5` (`poly[3]`, close to 1/120).
const C5: u64 = 0x3f81_1111_67a4_d017;
/// `0x1.8p52`: adding it rounds `x * 128/ln2` to an integer held in the low
/// mantissa bits (`shift`).
const SHIFT: u64 = 0x4338_0000_0000_0000;
/// Smallest `|x|` of the fast path, `2^-54` (smaller: `1.0 + x`).
const TINY: u64 = 0x3c90_0000_0000_0000;
/// Bound of the fast path, `|x| < 512` (larger or not finite: scalar).
const LARGE: f64 = 512.0;

/// `__exp_data.tab`: for `i` in `0..128`, `TAB[2i]` holds the bits of
/// `tail_i` and `TAB[2i + 1]` the bits of `2^(i/128)` minus `i << 45`, so
/// that adding `k << 45` (with `k mod 128 = i`) gives the bits of
/// `scale = 2^(k/128)` up to the `tail_i` correction
/// (`2^(k/128) ~= scale * (1 + tail_i)`).
#[rustfmt::skip]
static TAB: [u64; 256] = [
    0x0000000000000000, 0x3ff0000000000000,
    0x3c9b3b4f1a88bf6e, 0x3feff63da9fb3335,
    0xbc7160139cd8dc5d, 0x3fefec9a3e778061,
    0xbc905e7a108766d1, 0x3fefe315e86e7f85,
    0x3c8cd2523567f613, 0x3fefd9b0d3158574,
    0xbc8bce8023f98efa, 0x3fefd06b29ddf6de,
    0x3c60f74e61e6c861, 0x3fefc74518759bc8,
    0x3c90a3e45b33d399, 0x3fefbe3ecac6f383,
    0x3c979aa65d837b6d, 0x3fefb5586cf9890f,
    0x3c8eb51a92fdeffc, 0x3fefac922b7247f7,
    0x3c3ebe3d702f9cd1, 0x3fefa3ec32d3d1a2,
    0xbc6a033489906e0b, 0x3fef9b66affed31b,
    0xbc9556522a2fbd0e, 0x3fef9301d0125b51,
    0xbc5080ef8c4eea55, 0x3fef8abdc06c31cc,
    0xbc91c923b9d5f416, 0x3fef829aaea92de0,
    0x3c80d3e3e95c55af, 0x3fef7a98c8a58e51,
    0xbc801b15eaa59348, 0x3fef72b83c7d517b,
    0xbc8f1ff055de323d, 0x3fef6af9388c8dea,
    0x3c8b898c3f1353bf, 0x3fef635beb6fcb75,
    0xbc96d99c7611eb26, 0x3fef5be084045cd4,
    0x3c9aecf73e3a2f60, 0x3fef54873168b9aa,
    0xbc8fe782cb86389d, 0x3fef4d5022fcd91d,
    0x3c8a6f4144a6c38d, 0x3fef463b88628cd6,
    0x3c807a05b0e4047d, 0x3fef3f49917ddc96,
    0x3c968efde3a8a894, 0x3fef387a6e756238,
    0x3c875e18f274487d, 0x3fef31ce4fb2a63f,
    0x3c80472b981fe7f2, 0x3fef2b4565e27cdd,
    0xbc96b87b3f71085e, 0x3fef24dfe1f56381,
    0x3c82f7e16d09ab31, 0x3fef1e9df51fdee1,
    0xbc3d219b1a6fbffa, 0x3fef187fd0dad990,
    0x3c8b3782720c0ab4, 0x3fef1285a6e4030b,
    0x3c6e149289cecb8f, 0x3fef0cafa93e2f56,
    0x3c834d754db0abb6, 0x3fef06fe0a31b715,
    0x3c864201e2ac744c, 0x3fef0170fc4cd831,
    0x3c8fdd395dd3f84a, 0x3feefc08b26416ff,
    0xbc86a3803b8e5b04, 0x3feef6c55f929ff1,
    0xbc924aedcc4b5068, 0x3feef1a7373aa9cb,
    0xbc9907f81b512d8e, 0x3feeecae6d05d866,
    0xbc71d1e83e9436d2, 0x3feee7db34e59ff7,
    0xbc991919b3ce1b15, 0x3feee32dc313a8e5,
    0x3c859f48a72a4c6d, 0x3feedea64c123422,
    0xbc9312607a28698a, 0x3feeda4504ac801c,
    0xbc58a78f4817895b, 0x3feed60a21f72e2a,
    0xbc7c2c9b67499a1b, 0x3feed1f5d950a897,
    0x3c4363ed60c2ac11, 0x3feece086061892d,
    0x3c9666093b0664ef, 0x3feeca41ed1d0057,
    0x3c6ecce1daa10379, 0x3feec6a2b5c13cd0,
    0x3c93ff8e3f0f1230, 0x3feec32af0d7d3de,
    0x3c7690cebb7aafb0, 0x3feebfdad5362a27,
    0x3c931dbdeb54e077, 0x3feebcb299fddd0d,
    0xbc8f94340071a38e, 0x3feeb9b2769d2ca7,
    0xbc87deccdc93a349, 0x3feeb6daa2cf6642,
    0xbc78dec6bd0f385f, 0x3feeb42b569d4f82,
    0xbc861246ec7b5cf6, 0x3feeb1a4ca5d920f,
    0x3c93350518fdd78e, 0x3feeaf4736b527da,
    0x3c7b98b72f8a9b05, 0x3feead12d497c7fd,
    0x3c9063e1e21c5409, 0x3feeab07dd485429,
    0x3c34c7855019c6ea, 0x3feea9268a5946b7,
    0x3c9432e62b64c035, 0x3feea76f15ad2148,
    0xbc8ce44a6199769f, 0x3feea5e1b976dc09,
    0xbc8c33c53bef4da8, 0x3feea47eb03a5585,
    0xbc845378892be9ae, 0x3feea34634ccc320,
    0xbc93cedd78565858, 0x3feea23882552225,
    0x3c5710aa807e1964, 0x3feea155d44ca973,
    0xbc93b3efbf5e2228, 0x3feea09e667f3bcd,
    0xbc6a12ad8734b982, 0x3feea012750bdabf,
    0xbc6367efb86da9ee, 0x3fee9fb23c651a2f,
    0xbc80dc3d54e08851, 0x3fee9f7df9519484,
    0xbc781f647e5a3ecf, 0x3fee9f75e8ec5f74,
    0xbc86ee4ac08b7db0, 0x3fee9f9a48a58174,
    0xbc8619321e55e68a, 0x3fee9feb564267c9,
    0x3c909ccb5e09d4d3, 0x3feea0694fde5d3f,
    0xbc7b32dcb94da51d, 0x3feea11473eb0187,
    0x3c94ecfd5467c06b, 0x3feea1ed0130c132,
    0x3c65ebe1abd66c55, 0x3feea2f336cf4e62,
    0xbc88a1c52fb3cf42, 0x3feea427543e1a12,
    0xbc9369b6f13b3734, 0x3feea589994cce13,
    0xbc805e843a19ff1e, 0x3feea71a4623c7ad,
    0xbc94d450d872576e, 0x3feea8d99b4492ed,
    0x3c90ad675b0e8a00, 0x3feeaac7d98a6699,
    0x3c8db72fc1f0eab4, 0x3feeace5422aa0db,
    0xbc65b6609cc5e7ff, 0x3feeaf3216b5448c,
    0x3c7bf68359f35f44, 0x3feeb1ae99157736,
    0xbc93091fa71e3d83, 0x3feeb45b0b91ffc6,
    0xbc5da9b88b6c1e29, 0x3feeb737b0cdc5e5,
    0xbc6c23f97c90b959, 0x3feeba44cbc8520f,
    0xbc92434322f4f9aa, 0x3feebd829fde4e50,
    0xbc85ca6cd7668e4b, 0x3feec0f170ca07ba,
    0x3c71affc2b91ce27, 0x3feec49182a3f090,
    0x3c6dd235e10a73bb, 0x3feec86319e32323,
    0xbc87c50422622263, 0x3feecc667b5de565,
    0x3c8b1c86e3e231d5, 0x3feed09bec4a2d33,
    0xbc91bbd1d3bcbb15, 0x3feed503b23e255d,
    0x3c90cc319cee31d2, 0x3feed99e1330b358,
    0x3c8469846e735ab3, 0x3feede6b5579fdbf,
    0xbc82dfcd978e9db4, 0x3feee36bbfd3f37a,
    0x3c8c1a7792cb3387, 0x3feee89f995ad3ad,
    0xbc907b8f4ad1d9fa, 0x3feeee07298db666,
    0xbc55c3d956dcaeba, 0x3feef3a2b84f15fb,
    0xbc90a40e3da6f640, 0x3feef9728de5593a,
    0xbc68d6f438ad9334, 0x3feeff76f2fb5e47,
    0xbc91eee26b588a35, 0x3fef05b030a1064a,
    0x3c74ffd70a5fddcd, 0x3fef0c1e904bc1d2,
    0xbc91bdfbfa9298ac, 0x3fef12c25bd71e09,
    0x3c736eae30af0cb3, 0x3fef199bdd85529c,
    0x3c8ee3325c9ffd94, 0x3fef20ab5fffd07a,
    0x3c84e08fd10959ac, 0x3fef27f12e57d14b,
    0x3c63cdaf384e1a67, 0x3fef2f6d9406e7b5,
    0x3c676b2c6c921968, 0x3fef3720dcef9069,
    0xbc808a1883ccb5d2, 0x3fef3f0b555dc3fa,
    0xbc8fad5d3ffffa6f, 0x3fef472d4a07897c,
    0xbc900dae3875a949, 0x3fef4f87080d89f2,
    0x3c74a385a63d07a7, 0x3fef5818dcfba487,
    0xbc82919e2040220f, 0x3fef60e316c98398,
    0x3c8e5a50d5c192ac, 0x3fef69e603db3285,
    0x3c843a59ac016b4b, 0x3fef7321f301b460,
    0xbc82d52107b43e1f, 0x3fef7c97337b9b5f,
    0xbc892ab93b470dc9, 0x3fef864614f5a129,
    0x3c74b604603a88d3, 0x3fef902ee78b3ff6,
    0x3c83c5ec519d7271, 0x3fef9a51fbc74c83,
    0xbc8ff7128fd391f0, 0x3fefa4afa2a490da,
    0xbc8dae98e223747d, 0x3fefaf482d8e67f1,
    0x3c8ec3bc41aa2008, 0x3fefba1bee615a27,
    0x3c842b94c3a9eb32, 0x3fefc52b376bba97,
    0x3c8a64a931d185ee, 0x3fefd0765b6e4540,
    0xbc8e37bae43be3ed, 0x3fefdbfdad9cbe14,
    0x3c77893b4d91cd9d, 0x3fefe7c1819e90d8,
    0x3c5305c14160cc89, 0x3feff3c22b8f71f1,
];

/// Arguments (bits) where the contraction pattern shows in the result, so
/// that the self-check rejects a libm with another pattern. Random arguments
/// rarely do: the fused and unfused builds round differently for about one
/// argument in 1500 (almost always through the last operation,
/// `scale + scale * tmp`), and fusing `t = tail + r + r2 * (C2 + r * C3)` or
/// not changes about one result in 1.7 million; the other six fused
/// operations never showed in 300 million arguments (`kd * NegLn2hiN` is
/// exact, the others perturb `tmp` far below half an ulp of the result).
/// The first 64 (48 in `[-40, 0]`, 16 in `[-745, 512)`) differ between the
/// fused and unfused builds, the last 8 (4 in `[-40, 0]`) between
/// `__exp_fma` and `__exp_fma` without the `t` fusion; found once by
/// scanning pseudo-random arguments with scalar transcriptions (the unit
/// test `vexp_self_check_discriminates` re-verifies both properties).
#[rustfmt::skip]
const CONTRACTION_PROBES: [u64; 72] = [
    0xc0366adb58964361, 0xc039f7c2091d59ba, 0xc03d885c78081708,
    0xc0401723734b3582, 0xc04155ade3866e91, 0xc03d33b51fcc2520,
    0xc01bd20fd83e0f20, 0xc032d5fcde0beccc, 0xc0195099cc25c6f0,
    0xc030aff0f3245401, 0xc035e8b7f98dd911, 0xc037e555d9ed5bf7,
    0xc007cd931ecf9a90, 0xc03466dfd4960ac0, 0xc01db617111edc90,
    0xc03bcc3f13154f8c, 0xbff700cd4e1b0de0, 0xc032a486058a6691,
    0xc01f9dd9e8f659f0, 0xc03a13e4fca4b5c0, 0xc02a6e40bdc1a34c,
    0xc03b438a99736292, 0xc0238d91b5cd2c88, 0xc035ac9475a29d9f,
    0xc02091a1e6f3c046, 0xc041e4198e29bf2a, 0xc043b17efb2168e0,
    0xc0438c1a2ec09520, 0xc042c5385cd67143, 0xc0406dc3dfeec4cc,
    0xc027e88558afbf12, 0xbfdf50370fadd800, 0xc02279255dd7faec,
    0xc03c9dcf0a435166, 0xbfd394945a7f9580, 0xc0424cacaf8fcf5f,
    0xc033957b699ca279, 0xc03a67049ac89035, 0xc028dcd0aececff6,
    0xc0277391fbafdc1c, 0xc0353685eb8d7b21, 0xc0341ec96ac57300,
    0xbfe797822a91a940, 0xbff7e33440744ec0, 0xc02a0500fb005130,
    0xc03be3fafe473d01, 0xc037e79e3fa639bc, 0xc041c08a768e271c,
    0x40725c569d81c398, 0xc050d32073a764c0, 0x4079c32f2e8daeec,
    0xc05b75fd9481b808, 0x40515d34552f6100, 0x401f243439d95880,
    0x407b26f3d7e6b0fc, 0xc06337deecf210e0, 0x4040a0248dcd2390,
    0xc07055c61af1b8e6, 0xc060f96986562fc8, 0x4071745534c88754,
    0xc07d6201fe7e2777, 0xc06dcc8c1ed9f498, 0x40615eae9f27c2c8,
    0x406e5fd87d4c0aa8,
    // `t` fusion
    0xbffe81d0d5242160, 0xc041c56892815245, 0xc01b6f5cdb314528,
    0xc03f59ce55916054, 0xc067577e4c7045b8, 0x407855b197831bd6,
    0x407a3b978deb58a8, 0xc073b3e22ce9f630,
];

/// Which of glibc's `exp` builds the vector code replays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `__exp_fma`, glibc's choice when FMA and AVX2 are usable:
    /// [`exp4_fma`] (needs AVX2 and FMA).
    Fma,
    /// `__exp_avx` / `__exp_sse2`, no fused operations: [`exp4_nofma`]
    /// (needs AVX2).
    NoFma,
}

/// The vector `exp` usable on this machine, if any: the variant glibc's
/// IFUNC would pick for this CPU (FMA and AVX2 usable: [`Kind::Fma`]; AVX2
/// only: [`Kind::NoFma`]; no AVX2: none), provided it reproduces `f64::exp`
/// bit for bit on the self-check arguments ([`self_check`]). Detected and
/// checked once per process; `None` means "use `f64::exp`".
pub(crate) fn fast_exp_kind() -> Option<Kind> {
    static KIND: OnceLock<Option<Kind>> = OnceLock::new();
    *KIND.get_or_init(|| glibc_kind().filter(|&k| self_check(k)))
}

/// The variant matching the build glibc's IFUNC selects on this CPU, if the
/// CPU can run it. (glibc's order is FMA+AVX2, FMA4, AVX, SSE2; a CPU with
/// AVX2 and FMA4 but no FMA would get `__exp_fma4`, which the self-check
/// rejects if it differs from [`Kind::NoFma`].)
fn glibc_kind() -> Option<Kind> {
    #[cfg(target_arch = "x86_64")]
    {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return None;
        }
        if std::arch::is_x86_feature_detected!("fma") {
            Some(Kind::Fma)
        } else {
            Some(Kind::NoFma)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// `exp` of four arguments, bitwise equal to `x.map(f64::exp)`: the vector
/// code when [`fast_exp_kind`] allows it, the scalar libm otherwise.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn exp_lanes(x: &[f64; 4]) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    if let Some(kind) = fast_exp_kind() {
        // SAFETY: `fast_exp_kind` only returns a kind whose instruction set
        // extensions the CPU supports.
        return unsafe { exp4_kind(kind, x) };
    }
    x.map(f64::exp)
}

/// [`exp4_fma`] or [`exp4_nofma`] on an array.
///
/// # Safety
/// The CPU must support AVX2, and FMA for [`Kind::Fma`].
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn exp4_kind(kind: Kind, x: &[f64; 4]) -> [f64; 4] {
    match kind {
        Kind::Fma => exp4_fma_array(x),
        Kind::NoFma => exp4_nofma_array(x),
    }
}

/// [`exp4_fma`] on an array.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp4_fma_array(x: &[f64; 4]) -> [f64; 4] {
    let mut out = [0.0; 4];
    _mm256_storeu_pd(out.as_mut_ptr(), exp4_fma(_mm256_loadu_pd(x.as_ptr())));
    out
}

/// [`exp4_nofma`] on an array.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp4_nofma_array(x: &[f64; 4]) -> [f64; 4] {
    let mut out = [0.0; 4];
    _mm256_storeu_pd(out.as_mut_ptr(), exp4_nofma(_mm256_loadu_pd(x.as_ptr())));
    out
}

/// Broadcast of the double with bits `b`.
#[cfg(target_arch = "x86_64")]
// Always inlined (no `target_feature` of its own, which would forbid that):
// only called from the AVX2 functions below.
#[inline(always)]
unsafe fn splat(b: u64) -> __m256d {
    _mm256_set1_pd(f64::from_bits(b))
}

/// Table lookup of the lanes' `ki` (bits of `x * 128/ln2 + Shift`):
/// `(tail, scale)` with `tail = TAB[2i]` and
/// `scale = bits(TAB[2i + 1] + (ki << 45))`, `i = ki mod 128` (any `ki` is
/// safe: the index is masked).
#[cfg(target_arch = "x86_64")]
// Always inlined (no `target_feature` of its own, which would forbid that):
// only called from the AVX2 functions below.
#[inline(always)]
unsafe fn lookup(ki: __m256i) -> (__m256d, __m256d) {
    let idx = _mm256_slli_epi64::<1>(_mm256_and_si256(ki, _mm256_set1_epi64x(127)));
    let tail = _mm256_i64gather_pd::<8>(TAB.as_ptr() as *const f64, idx);
    let sbits = _mm256_i64gather_epi64::<8>(TAB.as_ptr().add(1) as *const i64, idx);
    let scale = _mm256_castsi256_pd(_mm256_add_epi64(sbits, _mm256_slli_epi64::<45>(ki)));
    (tail, scale)
}

/// The final result from the fast-path values `y`: lanes with
/// `|x| < 2^-54` get `1.0 + x` (as glibc), lanes outside the fast path
/// (`|x| >= 512`, NaN, infinities) are recomputed with `f64::exp`.
#[cfg(target_arch = "x86_64")]
// Always inlined (no `target_feature` of its own, which would forbid that):
// only called from the AVX2 functions below.
#[inline(always)]
unsafe fn finish(x: __m256d, y: __m256d) -> __m256d {
    let ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    let tiny = _mm256_cmp_pd::<_CMP_LT_OQ>(ax, splat(TINY));
    let fast = _mm256_cmp_pd::<_CMP_LT_OQ>(ax, _mm256_set1_pd(LARGE));
    let y = _mm256_blendv_pd(y, _mm256_add_pd(_mm256_set1_pd(1.0), x), tiny);
    // `fast` covers `tiny`: a lane is special iff it fails `|x| < 512`.
    let special = _mm256_movemask_pd(fast) ^ 0xf;
    if special != 0 {
        return scalar_lanes(x, y, special);
    }
    y
}

/// `y` with the lanes flagged in `mask` replaced by `f64::exp` of `x`.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
#[target_feature(enable = "avx2")]
unsafe fn scalar_lanes(x: __m256d, y: __m256d, mask: i32) -> __m256d {
    let mut xs = [0.0; 4];
    let mut ys = [0.0; 4];
    _mm256_storeu_pd(xs.as_mut_ptr(), x);
    _mm256_storeu_pd(ys.as_mut_ptr(), y);
    for (l, (yl, xl)) in ys.iter_mut().zip(xs).enumerate() {
        if mask & (1 << l) != 0 {
            *yl = xl.exp();
        }
    }
    _mm256_loadu_pd(ys.as_ptr())
}

/// `exp` of four lanes, bitwise equal to glibc's `__exp_fma` (the `exp` of
/// CPUs with FMA and AVX2): the fast path with glibc's eight fused
/// multiply-adds (module documentation), `1.0 + x` for `|x| < 2^-54`, scalar
/// `f64::exp` for lanes with `|x| >= 512`, NaN or infinite.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn exp4_fma(x: __m256d) -> __m256d {
    let shift = splat(SHIFT);
    let kd = _mm256_fmadd_pd(x, splat(INV_LN2_N), shift);
    let ki = _mm256_castpd_si256(kd);
    let kd = _mm256_sub_pd(kd, shift);
    let r = _mm256_fmadd_pd(kd, splat(NEG_LN2_HI_N), x);
    let r = _mm256_fmadd_pd(kd, splat(NEG_LN2_LO_N), r);
    let (tail, scale) = lookup(ki);
    let p23 = _mm256_fmadd_pd(r, splat(C3), splat(C2));
    let tr = _mm256_add_pd(tail, r);
    let r2 = _mm256_mul_pd(r, r);
    let p45 = _mm256_fmadd_pd(r, splat(C5), splat(C4));
    let t = _mm256_fmadd_pd(p23, r2, tr);
    let r4 = _mm256_mul_pd(r2, r2);
    let tmp = _mm256_fmadd_pd(r4, p45, t);
    finish(x, _mm256_fmadd_pd(scale, tmp, scale))
}

/// `exp` of four lanes, bitwise equal to glibc's `__exp_avx` and
/// `__exp_sse2` (the `exp` of CPUs without FMA): the fast path with every
/// product rounded, in C source order, `1.0 + x` for `|x| < 2^-54`, scalar
/// `f64::exp` for lanes with `|x| >= 512`, NaN or infinite.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn exp4_nofma(x: __m256d) -> __m256d {
    let shift = splat(SHIFT);
    let kd = _mm256_add_pd(_mm256_mul_pd(x, splat(INV_LN2_N)), shift);
    let ki = _mm256_castpd_si256(kd);
    let kd = _mm256_sub_pd(kd, shift);
    let hi = _mm256_mul_pd(kd, splat(NEG_LN2_HI_N));
    let lo = _mm256_mul_pd(kd, splat(NEG_LN2_LO_N));
    let r = _mm256_add_pd(_mm256_add_pd(x, hi), lo);
    let (tail, scale) = lookup(ki);
    let p23 = _mm256_add_pd(splat(C2), _mm256_mul_pd(r, splat(C3)));
    let tr = _mm256_add_pd(tail, r);
    let r2 = _mm256_mul_pd(r, r);
    let p45 = _mm256_add_pd(splat(C4), _mm256_mul_pd(r, splat(C5)));
    let t = _mm256_add_pd(tr, _mm256_mul_pd(r2, p23));
    let r4 = _mm256_mul_pd(r2, r2);
    let tmp = _mm256_add_pd(t, _mm256_mul_pd(r4, p45));
    finish(x, _mm256_add_pd(scale, _mm256_mul_pd(scale, tmp)))
}

/// SplitMix64 step: a small deterministic generator for the self-check (and
/// the tests).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Uniform double in `[lo, hi)` from the generator.
fn uniform(state: &mut u64, lo: f64, hi: f64) -> f64 {
    let u = (splitmix(state) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    lo + (hi - lo) * u
}

/// The self-check arguments (about 4000): special values (zeros, `2^-54`
/// and its neighbours, subnormals, NaNs, infinities, the fast-path bound
/// 512, the overflow and underflow thresholds), [`CONTRACTION_PROBES`], the
/// points where `round(x * 128/ln2)` changes and their neighbours, and
/// pseudo-random
/// arguments in `[-40, 0]` (the Gaussian kernel's range), `[-745, 710]`,
/// the subnormal-result range `[-745.2, -708.3]` and around 0.
fn self_check_args() -> Vec<f64> {
    let mut v: Vec<f64> = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::from_bits(TINY),
        -f64::from_bits(TINY),
        f64::from_bits(TINY - 1),
        -f64::from_bits(TINY - 1),
        f64::from_bits(TINY + 1),
        -f64::from_bits(TINY + 1),
        f64::from_bits(1),
        -f64::from_bits(1),
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        1e-300,
        -1e-300,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff8_0000_dead_beef),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        LARGE,
        -LARGE,
        f64::from_bits(LARGE.to_bits() - 1),
        -f64::from_bits(LARGE.to_bits() - 1),
        709.782_712_893_383_9,
        709.782_712_893_384,
        710.0,
        -708.396_418_532_264_1,
        -708.396_418_532_264_2,
        -745.133_219_101_941_1,
        -745.133_219_101_941_2,
        -746.0,
        -1022.0 * std::f64::consts::LN_2,
        -40.0,
    ];
    v.extend(CONTRACTION_PROBES.iter().map(|&b| f64::from_bits(b)));
    let ln2_n = std::f64::consts::LN_2 / 128.0;
    let mut s = 0x5eed_0e79_u64;
    // round(x * 128/ln2) boundaries: x = (k + 1/2) ln2/128 and neighbours
    // (k over the fast path, then over the Gaussian kernel's [-40, 0])
    for i in 0..160 {
        let (lo, hi) = if i < 80 {
            (-94_600.0, 94_600.0)
        } else {
            (-7_390.0, 0.0)
        };
        let b = (uniform(&mut s, lo, hi).floor() + 0.5) * ln2_n;
        for d in -2i64..=2 {
            v.push(f64::from_bits((b.to_bits() as i64 + d) as u64));
        }
    }
    for &(n, lo, hi) in &[
        (2000, -40.0, 0.0),
        (1000, -745.0, 710.0),
        (200, -745.2, -708.3),
        (100, -1e-3, 1e-3),
    ] {
        for _ in 0..n {
            v.push(uniform(&mut s, lo, hi));
        }
    }
    v
}

/// Whether the vector variant `kind` reproduces `f64::exp` bit for bit on
/// [`self_check_args`] (`false` if the CPU cannot run it).
fn self_check(kind: Kind) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let args = self_check_args();
        args.chunks(4).all(|c| {
            let mut x = [0.0; 4];
            x[..c.len()].copy_from_slice(c);
            // SAFETY: only called with the kind `glibc_kind` derived from the
            // CPU's features.
            let y = unsafe { exp4_kind(kind, &x) };
            // `black_box`: the reference must be the run-time libm, never a
            // value the compiler folded at build time.
            x.iter()
                .zip(y)
                .all(|(&a, b)| std::hint::black_box(a).exp().to_bits() == b.to_bits())
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = kind;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits of the seven fusions of [`scalar_mask`]: all eight multiply-adds fused (`__exp_fma`).
    const ALL: u32 = 0x7f;
    /// Bit of the `t = fma(p23, r2, tail + r)` fusion in [`scalar_mask`].
    const T_FUSION: u32 = 1 << 4;

    /// [`scalar_mask`] of the build `fused` (`__exp_fma`) or not
    /// (`__exp_sse2`).
    fn scalar_ref(x: f64, fused: bool) -> f64 {
        scalar_mask(x, if fused { ALL } else { 0 })
    }

    /// Scalar Rust transcription of glibc's `exp`, the multiply-adds of the
    /// fast path fused or not as bits 0 to 6 of `mask` say (in the order of
    /// the module documentation: `kd`, `r` hi, `r` lo, `p23`, `t`, `p45`,
    /// `tmp`; the final `scale + scale * tmp` is always fused when
    /// `mask != 0`); the other paths as glibc (`1.0 + x` when tiny, the libm
    /// itself elsewhere).
    fn scalar_mask(x: f64, mask: u32) -> f64 {
        let ax = x.abs();
        if ax < f64::from_bits(TINY) {
            return 1.0 + x;
        }
        if ax.is_nan() || ax >= LARGE {
            return x.exp();
        }
        let f = f64::from_bits;
        let mla = |op: u32, a: f64, b: f64, c: f64| {
            if mask & (1 << op) != 0 {
                a.mul_add(b, c)
            } else {
                a * b + c
            }
        };
        let kd = mla(0, x, f(INV_LN2_N), f(SHIFT));
        let ki = kd.to_bits();
        let kd = kd - f(SHIFT);
        let r = mla(2, kd, f(NEG_LN2_LO_N), mla(1, kd, f(NEG_LN2_HI_N), x));
        let i = 2 * (ki % 128) as usize;
        let tail = f(TAB[i]);
        let scale = f(TAB[i + 1].wrapping_add(ki << 45));
        let r2 = r * r;
        let t = mla(4, mla(3, r, f(C3), f(C2)), r2, tail + r);
        let tmp = mla(6, r2 * r2, mla(5, r, f(C5), f(C4)), t);
        if mask != 0 {
            scale.mul_add(tmp, scale)
        } else {
            scale + scale * tmp
        }
    }

    /// Variant of the vector code the CPU can run, keyed by fused-ness
    /// (`None` if the CPU lacks the features).
    fn runnable(kind: Kind) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && (kind == Kind::NoFma || std::arch::is_x86_feature_detected!("fma"))
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = kind;
            false
        }
    }

    /// Number of arguments where the vector variant `kind` and `reference`
    /// disagree in any bit (first few printed).
    fn mismatches(kind: Kind, args: &[f64], reference: impl Fn(f64) -> f64) -> usize {
        let mut bad = 0;
        for c in args.chunks(4) {
            let mut x = [0.0; 4];
            x[..c.len()].copy_from_slice(c);
            // SAFETY: callers check `runnable(kind)`.
            #[cfg(target_arch = "x86_64")]
            let y = unsafe { exp4_kind(kind, &x) };
            #[cfg(not(target_arch = "x86_64"))]
            let y = x;
            for (&a, b) in x.iter().zip(y) {
                let want = reference(std::hint::black_box(a));
                if want.to_bits() != b.to_bits() {
                    if bad < 5 {
                        eprintln!("{kind:?}: exp({a:e}) = {b:e}, reference {want:e}");
                    }
                    bad += 1;
                }
            }
        }
        bad
    }

    fn random(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n).map(|_| uniform(&mut s, lo, hi)).collect()
    }

    fn specials() -> Vec<f64> {
        let mut v = self_check_args();
        v.truncate(38);
        v.extend([
            f64::from_bits(0x7ff0_0000_0000_0000 - 1),
            f64::from_bits(0x8000_0000_0000_0001),
            5e-324,
            1e-17,
            -1e-17,
            511.0,
            -511.0,
            600.0,
            -600.0,
            -1000.0,
            1000.0,
        ]);
        v
    }

    /// Checks `glibc`'s pick against the libm and the other variant against
    /// its scalar transcription.
    fn check(args: &[f64]) {
        let picked = glibc_kind();
        for kind in [Kind::Fma, Kind::NoFma] {
            if !runnable(kind) {
                continue;
            }
            let fused = kind == Kind::Fma;
            assert_eq!(mismatches(kind, args, |a| scalar_ref(a, fused)), 0);
            // against the libm only where the self-check accepted it (another
            // libm build fails it, and then the kernels never use it)
            if Some(kind) == picked && fast_exp_kind() == picked {
                assert_eq!(mismatches(kind, args, f64::exp), 0);
            }
        }
    }

    #[test]
    fn vexp_hot_range() {
        check(&random(2_000_000, -40.0, 0.0, 1));
    }

    #[test]
    fn vexp_wide_range() {
        check(&random(200_000, -745.0, 710.0, 2));
        check(&random(50_000, -745.2, -708.3, 3));
    }

    #[test]
    fn vexp_special_values() {
        check(&specials());
        check(&self_check_args());
    }

    #[test]
    fn vexp_lanes_and_kind() {
        let picked = glibc_kind();
        // None only when this machine's libm is not the build replayed here
        assert!(fast_exp_kind() == picked || fast_exp_kind().is_none());
        let args = random(100_000, -40.0, 0.0, 4);
        for c in args
            .chunks_exact(4)
            .chain([&specials()[..4], &specials()[16..20]])
        {
            let x: [f64; 4] = c.try_into().unwrap();
            let y = exp_lanes(&x);
            for (a, b) in x.iter().zip(y) {
                assert_eq!(a.exp().to_bits(), b.to_bits(), "exp({a:e})");
            }
        }
    }

    /// The self-check set tells the two builds apart, and `__exp_fma` from
    /// a build without the `t` fusion (so a libm with another contraction
    /// pattern is rejected).
    #[test]
    fn vexp_self_check_discriminates() {
        let (probes, t_probes) = CONTRACTION_PROBES.split_at(64);
        for &b in probes {
            let a = f64::from_bits(b);
            assert_ne!(
                scalar_ref(a, true).to_bits(),
                scalar_ref(a, false).to_bits()
            );
        }
        for &b in t_probes {
            let a = f64::from_bits(b);
            let without_t = scalar_mask(a, ALL & !T_FUSION);
            assert_ne!(scalar_ref(a, true).to_bits(), without_t.to_bits());
        }
        if let Some(kind) = fast_exp_kind() {
            assert!(self_check(kind));
            let other = if kind == Kind::Fma {
                Kind::NoFma
            } else {
                Kind::Fma
            };
            if runnable(other) {
                assert!(!self_check(other));
            }
        }
    }

    /// The table reproduces `2^(i/128)` (`scale * (1 + tail)`).
    #[test]
    fn vexp_table() {
        for i in 0..128u64 {
            let scale = f64::from_bits(TAB[2 * i as usize + 1] + (i << 45));
            let tail = f64::from_bits(TAB[2 * i as usize]);
            let exact = (i as f64 / 128.0).exp2();
            assert!((scale - exact).abs() <= exact * f64::EPSILON, "{i}");
            assert!(tail.abs() < f64::EPSILON, "{i}");
        }
        assert_eq!(f64::from_bits(SHIFT), 1.5 * (1u64 << 52) as f64);
        assert_eq!(f64::from_bits(TINY), 2f64.powi(-54));
    }

    /// [`exp4_nofma`] against the libm's own unfused build: run with
    /// `GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA` so that glibc's IFUNC
    /// picks `__exp_avx` (`cargo test -p pyspec-core --release
    /// vexp_nofma_libm -- --ignored`).
    #[test]
    #[ignore]
    fn vexp_nofma_libm() {
        if !runnable(Kind::NoFma) {
            return;
        }
        let mut args = random(2_000_000, -40.0, 0.0, 5);
        args.extend(random(200_000, -745.0, 710.0, 6));
        args.extend(specials());
        args.extend(self_check_args());
        assert_eq!(mismatches(Kind::NoFma, &args, f64::exp), 0);
        assert!(self_check(Kind::NoFma));
        if runnable(Kind::Fma) {
            assert!(!self_check(Kind::Fma));
        }
    }

    /// One-off check on 200 million arguments in `[-40, 0]` plus timings
    /// (`cargo test -p pyspec-core --release vexp_long -- --ignored
    /// --nocapture`).
    #[test]
    #[ignore]
    fn vexp_long() {
        let Some(kind) = fast_exp_kind() else {
            eprintln!("no fast exp on this machine");
            return;
        };
        let n = 200_000_000usize;
        let mut s = 7u64;
        let mut x = vec![0.0; 1 << 20];
        let mut bad = 0usize;
        let mut done = 0;
        while done < n {
            x.iter_mut().for_each(|v| *v = uniform(&mut s, -40.0, 0.0));
            bad += mismatches(kind, &x, f64::exp);
            done += x.len();
        }
        eprintln!("{kind:?}: {bad} mismatches in {done} arguments in [-40, 0]");
        assert_eq!(bad, 0);

        let x = random(4096, -40.0, 0.0, 8);
        let reps = 2000;
        // The way a kernel calls it: inlined in an AVX2+FMA loop.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn sum_fma(x: &[f64], reps: usize) -> f64 {
            let mut acc = _mm256_setzero_pd();
            for _ in 0..reps {
                for c in std::hint::black_box(x).chunks_exact(4) {
                    acc = _mm256_add_pd(acc, exp4_fma(_mm256_loadu_pd(c.as_ptr())));
                }
            }
            let mut a = [0.0; 4];
            _mm256_storeu_pd(a.as_mut_ptr(), acc);
            a.iter().sum()
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn sum_nofma(x: &[f64], reps: usize) -> f64 {
            let mut acc = _mm256_setzero_pd();
            for _ in 0..reps {
                for c in std::hint::black_box(x).chunks_exact(4) {
                    acc = _mm256_add_pd(acc, exp4_nofma(_mm256_loadu_pd(c.as_ptr())));
                }
            }
            let mut a = [0.0; 4];
            _mm256_storeu_pd(a.as_mut_ptr(), acc);
            a.iter().sum()
        }
        #[cfg(target_arch = "x86_64")]
        for (name, f) in [
            (
                "exp4_fma inlined",
                sum_fma as unsafe fn(&[f64], usize) -> f64,
            ),
            ("exp4_nofma inlined", sum_nofma),
        ] {
            if name.contains("nofma") || kind == Kind::Fma {
                let t = std::time::Instant::now();
                // SAFETY: the CPU has the features (`fast_exp_kind` is Some).
                let acc = unsafe { f(&x, reps) };
                let ns = t.elapsed().as_secs_f64() * 1e9 / (reps * x.len()) as f64;
                eprintln!("ns per exp: {name} {ns:.2} ({acc})");
            }
        }
        let t = std::time::Instant::now();
        let mut acc = 0.0;
        for _ in 0..reps {
            for &a in std::hint::black_box(&x) {
                acc += a.exp();
            }
        }
        let scalar = t.elapsed().as_secs_f64() * 1e9 / (reps * x.len()) as f64;
        let t = std::time::Instant::now();
        let mut acc4 = [0.0; 4];
        for _ in 0..reps {
            for c in std::hint::black_box(&x).chunks_exact(4) {
                // SAFETY: `fast_exp_kind` returned `kind`.
                let y = unsafe { exp4_kind(kind, c.try_into().unwrap()) };
                for (a, b) in acc4.iter_mut().zip(y) {
                    *a += b;
                }
            }
        }
        let vector = t.elapsed().as_secs_f64() * 1e9 / (reps * x.len()) as f64;
        let t = std::time::Instant::now();
        let mut acc8 = [0.0; 4];
        for _ in 0..reps {
            for c in std::hint::black_box(&x).chunks_exact(4) {
                let y = exp_lanes(c.try_into().unwrap());
                for (a, b) in acc8.iter_mut().zip(y) {
                    *a += b;
                }
            }
        }
        let lanes = t.elapsed().as_secs_f64() * 1e9 / (reps * x.len()) as f64;
        eprintln!(
            "ns per exp: f64::exp {scalar:.2}, {kind:?} exp4 {vector:.2}, exp_lanes {lanes:.2} \
             ({acc} {acc4:?} {acc8:?})"
        );
    }
}
