//! `digest()` and `base64-decode()`.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

/// The browser's forgiving base64 (`atob`): padding optional, white space
/// ignored, stray trailing bits allowed.
const FORGIVING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 and reads the bytes as UTF-8 (invalid sequences become
/// U+FFFD); input that is not base64 gives "" (ODK Web Forms).
pub(crate) fn base64_decode_utf8(s: &str) -> String {
    let compact: String =
        s.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')).collect();
    match FORGIVING.decode(compact.as_bytes()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    }
}

/// Whether `digest()` knows this algorithm name (for `form check`).
pub(crate) fn is_digest_algorithm(algorithm: &str) -> bool {
    hash(algorithm, b"").is_some()
}

fn hash(algorithm: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "MD5" => Md5::digest(data).to_vec(),
        "SHA-1" => Sha1::digest(data).to_vec(),
        "SHA-256" => Sha256::digest(data).to_vec(),
        "SHA-384" => Sha384::digest(data).to_vec(),
        "SHA-512" => Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

impl<'a> Evaluator<'a> {
    /// `digest(value, algorithm[, encoding])`: the UTF-8 bytes of `value`
    /// hashed; encoding `base64` (default) or `hex` (lower case). Names are
    /// case-sensitive, as in ODK Web Forms.
    pub(super) fn fn_digest(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Value<'a>> {
        let value = self.eval_str(&args[0], ctx)?;
        let algorithm = self.eval_str(&args[1], ctx)?;
        let encoding = match args.get(2) {
            Some(e) => self.eval_str(e, ctx)?,
            None => Cow::Borrowed("base64"),
        };
        let bytes = hash(&algorithm, value.as_bytes()).ok_or_else(|| {
            EvalError::new(format!("digest(): unsupported algorithm '{algorithm}'"))
        })?;
        let out = match encoding.as_ref() {
            "base64" => base64::engine::general_purpose::STANDARD.encode(&bytes),
            "hex" => bytes.iter().map(|b| format!("{b:02x}")).collect(),
            other => {
                return Err(EvalError::new(format!("digest(): unsupported encoding '{other}'")));
            }
        };
        Ok(Value::Str(Cow::Owned(out)))
    }
}
