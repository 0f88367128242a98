//! The Kubernetes CEL quantity library (`k8s.io/apiserver/pkg/cel/library`,
//! in every 1.30 API server), for the test evaluator: `quantity`,
//! `isQuantity`, `isGreaterThan`, `isLessThan`, `compareTo`. Values are
//! held exactly, in units of 10⁻⁹, as `resource.Quantity` compares them.

use std::sync::Arc;

use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity(i128);

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

/// `<signed decimal><suffix>`, the suffix binary SI (`Ki`…`Ei`), decimal
/// SI (`n`, `u`, `m`, ``, `k`, `M`, `G`, `T`, `P`, `E`) or an exponent
/// (`e3`, `E-2`), as `resource.ParseQuantity` reads it.
pub fn parse(s: &str) -> Option<i128> {
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (num, suffix) = rest.split_at(num_end);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || num.matches('.').count() > 1 {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    // value = digits × 10^(exp10 − len(frac)) × 2^exp2, in nano units (+9).
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        e if e.len() > 1 && (e.starts_with('e') || e.starts_with('E')) => {
            let x: i32 = e[1..].parse().ok()?;
            (x, 0)
        }
        _ => return None,
    };
    let scale = exp10 - frac.len() as i32 + 9;
    let mut v = digits.checked_mul(1i128.checked_shl(exp2)?)?;
    if scale >= 0 {
        v = v.checked_mul(10i128.checked_pow(scale as u32)?)?;
    } else {
        // Below a nano unit: round up, as Quantity's canonical form does.
        let d = 10i128.checked_pow((-scale) as u32)?;
        v = v / d + i128::from(v % d != 0);
    }
    Some(if neg { -v } else { v })
}

fn quantity_of(v: &Arc<dyn Opaque>) -> Result<i128, ExecutionError> {
    v.downcast_ref::<Quantity>()
        .map(|q| q.0)
        .ok_or_else(|| ExecutionError::function_error("quantity", "not a quantity"))
}

/// Registers the library on a context.
pub fn register(ctx: &mut Context) {
    ctx.add_function(
        "quantity",
        |s: Arc<String>| -> Result<Arc<dyn Opaque>, ExecutionError> {
            parse(&s)
                .map(|n| Arc::new(Quantity(n)) as Arc<dyn Opaque>)
                .ok_or_else(|| {
                    ExecutionError::function_error("quantity", format!("invalid quantity {s:?}"))
                })
        },
    )
    .unwrap();
    ctx.add_function("isQuantity", |s: Arc<String>| parse(&s).is_some())
        .unwrap();
    ctx.add_function(
        "isGreaterThan",
        |This(a): This<Arc<dyn Opaque>>, b: Arc<dyn Opaque>| -> Result<bool, ExecutionError> {
            Ok(quantity_of(&a)? > quantity_of(&b)?)
        },
    )
    .unwrap();
    ctx.add_function(
        "isLessThan",
        |This(a): This<Arc<dyn Opaque>>, b: Arc<dyn Opaque>| -> Result<bool, ExecutionError> {
            Ok(quantity_of(&a)? < quantity_of(&b)?)
        },
    )
    .unwrap();
    ctx.add_function(
        "compareTo",
        |This(a): This<Arc<dyn Opaque>>, b: Arc<dyn Opaque>| -> Result<i64, ExecutionError> {
            Ok(match quantity_of(&a)?.cmp(&quantity_of(&b)?) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            })
        },
    )
    .unwrap();
}
