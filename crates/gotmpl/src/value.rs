//! The values a template works on, modelled on Go's kinds: the output of a template depends on
//! whether a number is an int or a float64, on lists and maps being shared references (sprig's
//! `set` mutates a map in place), and on records (Go structs) failing on unknown fields where
//! maps give "no value".

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::funcs::FuncError;

/// A callable value (Go's `func` kind), as stored in data or returned by a function.
pub type FuncValue = Rc<dyn Fn(&[Value]) -> Result<Value, FuncError>>;

/// A template value. Clone is cheap: lists, maps and records are shared like Go's slices, maps
/// and pointers.
#[derive(Clone)]
pub enum Value {
    /// Go's untyped nil (a nil `interface{}`); printed by a template as `<no value>`.
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    String(Rc<str>),
    List(Rc<RefCell<Vec<Value>>>),
    Map(Rc<RefCell<BTreeMap<String, Value>>>),
    Record(Rc<Record>),
    Time(Time),
    /// Go's `time.Duration`, in nanoseconds.
    Duration(i64),
    Func(FuncValue),
}

/// A Go struct: a type name and its fields in declaration order. Accessing a field it does not
/// have is an error ("can't evaluate field X in type T"), unlike a map's missing key.
#[derive(Clone)]
pub struct Record {
    /// The type as Go prints it with `%T`, e.g. `main.Container` or `*context.RuntimeContainer`.
    pub type_name: Rc<str>,
    pub fields: Vec<(Rc<str>, Value)>,
    /// For a Go slice type with methods (docker-gen's root context is a list of containers
    /// with `.Env`, `.Docker`...): the elements. Such a record ranges, indexes, slices, has a
    /// length, is true when non-empty and prints like a list, and keeps its named fields.
    pub items: Option<Rc<RefCell<Vec<Value>>>>,
}

impl Record {
    pub fn new(type_name: &str, fields: Vec<(&str, Value)>) -> Self {
        Record {
            type_name: Rc::from(type_name),
            fields: fields.into_iter().map(|(k, v)| (Rc::from(k), v)).collect(),
            items: None,
        }
    }

    /// A record that is also a list of `items` (see `Record::items`).
    pub fn with_items(type_name: &str, fields: Vec<(&str, Value)>, items: Vec<Value>) -> Self {
        Record {
            items: Some(Rc::new(RefCell::new(items))),
            ..Record::new(type_name, fields)
        }
    }

    /// The field named `name`, if the record has one.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }
}

/// Go's `time.Time`: an instant plus the zone it is shown in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Time {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
    /// Seconds east of UTC of the zone the time is shown in.
    pub offset: i32,
    /// The zone's abbreviation, e.g. "UTC", "CET"; empty when the zone has no name.
    pub zone: Rc<str>,
}

/// A calendar date and clock time, in a time's own zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
    /// 1..=366
    pub yday: u32,
}

impl Time {
    /// A UTC time.
    pub fn utc(secs: i64, nanos: u32) -> Self {
        Time {
            secs,
            nanos,
            offset: 0,
            zone: Rc::from("UTC"),
        }
    }

    /// The date and clock time in the time's zone.
    pub fn civil(&self) -> Civil {
        let local = self.secs + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let jan1 = days_from_civil(year, 1, 1);
        // Each value below is bounded (< 86400 seconds, < 366 days), so the casts cannot truncate.
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem / 60 % 60) as u32,
            second: (rem % 60) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: (days - jan1 + 1) as u32,
        }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    // d is 1..=31 and m 1..=12 by construction.
    (if m <= 2 { y + 1 } else { y }, m as u32, d as u32)
}

/// (year, month, day) to days since 1970-01-01 in the proleptic Gregorian calendar.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Go's `time.Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        if (0..=9999).contains(&c.year) {
            write!(f, "{:04}", c.year)?;
        } else {
            write!(f, "{}", c.year)?;
        }
        write!(
            f,
            "-{:02}-{:02} {:02}:{:02}:{:02}",
            c.month, c.day, c.hour, c.minute, c.second
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        let sign = if self.offset < 0 { '-' } else { '+' };
        let off = self.offset.unsigned_abs();
        let zone = format!("{sign}{:02}{:02}", off / 3600, off / 60 % 60);
        write!(f, " {zone} ")?;
        if self.zone.is_empty() {
            f.write_str(&zone)
        } else {
            f.write_str(&self.zone)
        }
    }
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5µs`, `0s`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".to_string();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Sub-second: one unit with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&frac_string(u, scale));
        out.push_str(unit);
    } else {
        let h = u / 3_600_000_000_000;
        let m = u / 60_000_000_000 % 60;
        let s = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&frac_string(s, 1_000_000_000));
        out.push('s');
    }
    if neg { format!("-{out}") } else { out }
}

/// `v / scale` with the fractional digits it has, trailing zeros removed.
fn frac_string(v: u64, scale: u64) -> String {
    let whole = v / scale;
    let frac = v % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn record(record: Record) -> Value {
        Value::Record(Rc::new(record))
    }

    /// Go's truth: false, 0, nil, and empty strings, lists and maps are false; structs are true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Uint(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Record(r) => r.items.as_ref().is_none_or(|l| !l.borrow().is_empty()),
            Value::Time(_) | Value::Func(_) => true,
            Value::Duration(d) => *d != 0,
        }
    }

    /// The type as Go prints it in errors and with `%T`.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Uint(_) => "uint64".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Record(r) => r.type_name.to_string(),
            Value::Time(_) => "time.Time".into(),
            Value::Duration(_) => "time.Duration".into(),
            Value::Func(_) => "func(...interface {}) (interface {}, error)".into(),
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a list, or of a record that is also a list.
    pub fn list_items(&self) -> Option<Rc<RefCell<Vec<Value>>>> {
        match self {
            Value::List(l) => Some(l.clone()),
            Value::Record(r) => r.items.clone(),
            _ => None,
        }
    }

    /// A record that is also a list seen as its list; other values as they are.
    pub fn as_list_like(&self) -> Value {
        match self {
            Value::Record(r) if r.items.is_some() => {
                self.list_items().map_or(Value::Nil, Value::List)
            }
            _ => self.clone(),
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({})",
            self.type_name(),
            crate::fmt::sprintf("%#v", std::slice::from_ref(self))
        )
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Rc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

/// JSON data as Go's `encoding/json` with `UseNumber` and the int conversion give it: integers
/// become Int (Uint when above `i64::MAX`), other numbers Float, objects Map, arrays List, null
/// Nil.
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Uint(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::from(s),
            serde_json::Value::Array(a) => Value::list(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_prints_as_go() {
        let t = Time::utc(1_700_000_000, 0);
        assert_eq!(t.to_string(), "2023-11-14 22:13:20 +0000 UTC");
        let t = Time {
            secs: 0,
            nanos: 500_000_000,
            offset: 3600,
            zone: Rc::from("CET"),
        };
        assert_eq!(t.to_string(), "1970-01-01 01:00:00.5 +0100 CET");
        let t = Time {
            secs: -1,
            nanos: 0,
            offset: -5400,
            zone: Rc::from(""),
        };
        assert_eq!(t.to_string(), "1969-12-31 22:29:59 -0130 -0130");
    }

    #[test]
    fn durations_print_as_go() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(duration_string(-60_000_000_000), "-1m0s");
        assert_eq!(duration_string(100_000_000), "100ms");
    }

    #[test]
    fn json_numbers_follow_the_documented_rule() {
        let v: serde_json::Value =
            serde_json::from_str(r#"[1, 18446744073709551615, 1.0, null]"#).expect("valid JSON");
        let Value::List(l) = Value::from(v) else {
            panic!("a list")
        };
        let l = l.borrow();
        assert!(matches!(l[0], Value::Int(1)));
        assert!(matches!(l[1], Value::Uint(u64::MAX)));
        assert!(matches!(l[2], Value::Float(f) if f == 1.0));
        assert!(matches!(l[3], Value::Nil));
    }

    #[test]
    fn truth_follows_go() {
        assert!(!Value::Int(0).is_truthy());
        assert!(!Value::str("").is_truthy());
        assert!(!Value::list(vec![]).is_truthy());
        assert!(Value::record(Record::new("T", vec![])).is_truthy());
        assert!(!Value::Nil.is_truthy());
    }
}
