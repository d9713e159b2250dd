//! sprig's hashes and crypto helpers: `sha1sum`, `sha256sum`, `adler32sum`, `uuidv4`,
//! `bcrypt` and `htpasswd` (bcrypt `$2a$`, cost 10), `derivePassword` (the Master Password
//! algorithm: scrypt key, HMAC-SHA256 seed, character templates), and `encryptAES`/
//! `decryptAES` (AES-256-CBC, PKCS#7 padding, random IV before the ciphertext, base64; the
//! key is the password zero-padded to 32 bytes). Certificate and key generation is not
//! provided.

use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::encoding::{b64_decode, b64_encode};
use super::{FuncError, Value, int, random, text};
use crate::funcs::{FuncMap, Param, Signature};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65_521;
        b = (b + a) % 65_521;
    }
    b << 16 | a
}

/// A random (version 4, variant 1) UUID.
fn uuidv4() -> Result<String, FuncError> {
    let mut b = random::bytes(16)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn bcrypt_hash(input: &str) -> String {
    match bcrypt::hash_with_result(input, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// The Master Password templates per password type.
fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The Master Password algorithm as sprig implements it.
fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(temps) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&key) else {
        return "failed to derive password: bad key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let temp = temps[usize::from(seed[0]) % temps.len()].as_bytes();
    temp.iter()
        .enumerate()
        .map(|(i, c)| {
            let chars = template_chars(*c);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

fn aes_key(password: &str) -> Aes256 {
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    Aes256::new(GenericArray::from_slice(&key))
}

fn encrypt_aes(password: &str, plain: &str) -> Result<String, FuncError> {
    if plain.is_empty() {
        return Ok(String::new());
    }
    let cipher = aes_key(password);
    let mut content = plain.as_bytes().to_vec();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = random::bytes(16)?;
    let mut prev: [u8; 16] = out[..16].try_into().map_err(|_| FuncError::new("iv"))?;
    for block in content.chunks(16) {
        let mut b = GenericArray::clone_from_slice(block);
        for (x, p) in b.iter_mut().zip(prev.iter()) {
            *x ^= p;
        }
        cipher.encrypt_block(&mut b);
        prev.copy_from_slice(&b);
        out.extend_from_slice(&b);
    }
    Ok(b64_encode(&out))
}

fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, FuncError> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let crypt = b64_decode(crypt64.as_bytes())
        .map_err(|at| FuncError(format!("illegal base64 data at input byte {at}")))?;
    if crypt.len() < 16 {
        return Err(FuncError(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        )));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err(FuncError::new("crypto/cipher: input not full blocks"));
    }
    let cipher = aes_key(password);
    let mut prev: &[u8] = iv;
    let mut out = Vec::with_capacity(body.len());
    for block in body.chunks(16) {
        let mut b = GenericArray::clone_from_slice(block);
        cipher.decrypt_block(&mut b);
        for (x, p) in b.iter_mut().zip(prev.iter()) {
            *x ^= p;
        }
        out.extend_from_slice(&b);
        prev = block;
    }
    let Some(&last) = out.last() else {
        return Err(FuncError::new("runtime error: index out of range [-1]"));
    };
    let keep = out.len() as i64 - i64::from(last);
    if keep < 0 {
        return Err(FuncError(format!(
            "runtime error: slice bounds out of range [:{keep}]"
        )));
    }
    out.truncate(keep as usize);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub(super) fn register(m: &mut FuncMap) {
    use Param::{Int, String as Str};
    let s1 = || Signature::fixed(&[Str]);
    m.insert("sha1sum", s1(), |a| {
        Ok(Value::from(hex(&Sha1::digest(text(&a[0]).as_bytes()))))
    });
    m.insert("sha256sum", s1(), |a| {
        Ok(Value::from(hex(&Sha256::digest(text(&a[0]).as_bytes()))))
    });
    m.insert("adler32sum", s1(), |a| {
        Ok(Value::from(adler32(text(&a[0]).as_bytes()).to_string()))
    });
    m.insert("uuidv4", Signature::fixed(&[]), |_| {
        uuidv4().map(Value::from)
    });
    m.insert("bcrypt", s1(), |a| {
        Ok(Value::from(bcrypt_hash(text(&a[0]))))
    });
    m.insert("htpasswd", Signature::fixed(&[Str, Str]), |a| {
        let user = text(&a[0]);
        Ok(Value::from(if user.contains(':') {
            format!("invalid username: {user}")
        } else {
            format!("{user}:{}", bcrypt_hash(text(&a[1])))
        }))
    });
    m.insert(
        "derivePassword",
        Signature::fixed(&[Int, Str, Str, Str, Str]),
        |a| {
            let counter = int(&a[0]) as u32;
            Ok(Value::from(derive_password(
                counter,
                text(&a[1]),
                text(&a[2]),
                text(&a[3]),
                text(&a[4]),
            )))
        },
    );
    m.insert("encryptAES", Signature::fixed(&[Str, Str]), |a| {
        encrypt_aes(text(&a[0]), text(&a[1])).map(Value::from)
    });
    m.insert("decryptAES", Signature::fixed(&[Str, Str]), |a| {
        decrypt_aes(text(&a[0]), text(&a[1])).map(Value::from)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert_eq!(adler32(b"Wikipedia"), 300_286_872);
        assert_eq!(
            hex(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let u = uuidv4().expect("random bytes");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn aes_round_trips() {
        let c = encrypt_aes("secretkey", "plaintext").expect("encrypts");
        assert_eq!(
            decrypt_aes("secretkey", &c).ok().as_deref(),
            Some("plaintext")
        );
        assert!(decrypt_aes("k", "bad").is_err());
    }
}
