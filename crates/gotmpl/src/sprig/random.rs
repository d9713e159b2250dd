//! sprig's random functions: `randAlphaNum`, `randAlpha`, `randAscii`, `randNumeric` (goutils'
//! crypto-random strings), `randInt`, `randBytes`, and the source behind `shuffle` and
//! `uuidv4`. All draw from the operating system's generator (`getrandom`), as Go's
//! `crypto/rand` does; templates can only test their properties, never their values.

use super::{FuncError, MAX_OUTPUT, Value, int};
use crate::funcs::{FuncMap, Param, Signature};

/// `n` random bytes from the operating system.
pub(super) fn bytes(n: usize) -> Result<Vec<u8>, FuncError> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| FuncError(e.to_string()))?;
    Ok(buf)
}

/// A uniform random number in `0..n` (`n > 0`), by rejection so no value is favoured.
pub(super) fn below(n: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let mut b = [0u8; 8];
        if getrandom::getrandom(&mut b).is_err() {
            return 0;
        }
        let v = u64::from_le_bytes(b);
        if v < zone {
            return v % n;
        }
    }
}

/// goutils' `CryptoRandom` over a set of ASCII characters; a negative count is goutils'
/// error, which sprig drops (the result is "").
fn random_string(count: i64, set: &[u8]) -> Result<Value, FuncError> {
    if count <= 0 {
        return Ok(Value::str(""));
    }
    let count = count as usize;
    if count > MAX_OUTPUT {
        return Err(FuncError::new("random string too long"));
    }
    let s: String = (0..count)
        .map(|_| char::from(set[below(set.len() as u64) as usize]))
        .collect();
    Ok(Value::from(s))
}

const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const NUMERIC: &[u8] = b"0123456789";
const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub(super) fn register(m: &mut FuncMap) {
    use Param::Int;
    let ascii: Vec<u8> = (32u8..127).collect();
    m.insert("randAlphaNum", Signature::fixed(&[Int]), |a| {
        random_string(int(&a[0]), ALPHANUM)
    });
    m.insert("randAlpha", Signature::fixed(&[Int]), |a| {
        random_string(int(&a[0]), ALPHA)
    });
    m.insert("randNumeric", Signature::fixed(&[Int]), |a| {
        random_string(int(&a[0]), NUMERIC)
    });
    m.insert("randAscii", Signature::fixed(&[Int]), move |a| {
        random_string(int(&a[0]), &ascii)
    });
    m.insert("randInt", Signature::fixed(&[Int, Int]), |a| {
        let (min, max) = (int(&a[0]), int(&a[1]));
        let span = max.wrapping_sub(min);
        if span <= 0 {
            // Go's rand.Intn panics on a non-positive bound.
            return Err(FuncError::new("invalid argument to Intn"));
        }
        Ok(Value::Int(min + below(span as u64) as i64))
    });
    m.insert("randBytes", Signature::fixed(&[Int]), |a| {
        let n = int(&a[0]);
        if n < 0 {
            return Err(FuncError::new("runtime error: makeslice: len out of range"));
        }
        if n as usize > MAX_OUTPUT {
            return Err(FuncError::new("randBytes count too large"));
        }
        let b = bytes(n as usize)?;
        Ok(Value::from(super::encoding::b64_encode(&b)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_use_their_sets() {
        let Ok(Value::String(s)) = random_string(200, ALPHA) else {
            panic!("a string")
        };
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| b.is_ascii_alphabetic()));
        assert!(matches!(random_string(-1, ALPHA), Ok(Value::String(s)) if s.is_empty()));
        assert!((0..100).all(|_| below(3) < 3));
    }
}
