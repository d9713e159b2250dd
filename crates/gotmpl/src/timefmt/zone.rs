//! Go's `time.Location`: UTC, or the transitions of a TZif file from the system's zoneinfo
//! (`time.LoadLocation`).

use super::scan::lossy;

/// A time zone: UTC, or the transitions of a TZif file.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Transition instants (Unix seconds), ascending.
    transitions: Vec<i64>,
    /// For each transition, the index into `types` in effect from then on.
    transition_types: Vec<usize>,
    /// (offset seconds east of UTC, is DST, abbreviation).
    types: Vec<(i32, bool, String)>,
}

impl Location {
    /// UTC (also the local zone of this crate).
    pub fn utc() -> Location {
        Location {
            transitions: Vec::new(),
            transition_types: Vec::new(),
            types: vec![(0, false, "UTC".into())],
        }
    }

    /// Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the local
    /// zone (UTC here), other names are read from the zoneinfo directory.
    /// None when the name is invalid or unknown.
    pub fn load(name: &str) -> Option<Location> {
        if name.is_empty() || name == "UTC" || name == "Local" {
            return Some(Location::utc());
        }
        if name.starts_with('/') || name.contains("..") || name.contains('\\') {
            return None;
        }
        let dirs = [
            std::env::var("ZONEINFO").unwrap_or_default(),
            "/usr/share/zoneinfo".to_owned(),
            "/usr/share/lib/zoneinfo".to_owned(),
            "/usr/lib/locale/TZ".to_owned(),
        ];
        dirs.iter()
            .filter(|d| !d.is_empty())
            .find_map(|d| std::fs::read(std::path::Path::new(d).join(name)).ok())
            .and_then(|bytes| Location::from_tzif(&bytes))
    }

    /// Parses a TZif file (versions 1 to 4), preferring the 64-bit data.
    pub fn from_tzif(data: &[u8]) -> Option<Location> {
        let header = |d: &[u8]| -> Option<[usize; 6]> {
            if d.len() < 44 || &d[..4] != b"TZif" {
                return None;
            }
            let mut counts = [0usize; 6];
            for (i, c) in counts.iter_mut().enumerate() {
                let at = 20 + i * 4;
                *c = u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?) as usize;
            }
            Some(counts)
        };
        let [isutc, isstd, leap, timecnt, typecnt, charcnt] = header(data)?;
        let v1_len = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isutc;
        let (body, wide) = if data[4] >= b'2' {
            let second = data.get(44 + v1_len..)?;
            (second, true)
        } else {
            (data, false)
        };
        let [_, _, _, timecnt, typecnt, charcnt] = header(body)?;
        let tsize = if wide { 8 } else { 4 };
        let mut at = 44;
        let mut transitions = Vec::with_capacity(timecnt);
        for _ in 0..timecnt {
            let b = body.get(at..at + tsize)?;
            let t = if wide {
                i64::from_be_bytes(b.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(b.try_into().ok()?))
            };
            transitions.push(t);
            at += tsize;
        }
        let transition_types: Vec<usize> = body
            .get(at..at + timecnt)?
            .iter()
            .map(|b| usize::from(*b))
            .collect();
        at += timecnt;
        let mut raw_types = Vec::with_capacity(typecnt);
        for _ in 0..typecnt {
            let b = body.get(at..at + 6)?;
            let off = i32::from_be_bytes(b[..4].try_into().ok()?);
            raw_types.push((off, b[4] != 0, usize::from(b[5])));
            at += 6;
        }
        let chars = body.get(at..at + charcnt)?;
        let types = raw_types
            .into_iter()
            .map(|(off, dst, idx)| {
                let name = chars.get(idx..).unwrap_or_default();
                let end = name.iter().position(|c| *c == 0).unwrap_or(name.len());
                (off, dst, lossy(&name[..end]))
            })
            .collect::<Vec<_>>();
        if types.is_empty() || transition_types.iter().any(|t| *t >= types.len()) {
            return None;
        }
        Some(Location {
            transitions,
            transition_types,
            types,
        })
    }

    /// The offset and abbreviation in effect at `unix` seconds.
    pub fn lookup(&self, unix: i64) -> (i32, &str) {
        let idx = match self.transitions.partition_point(|t| *t <= unix) {
            0 => self.types.iter().position(|t| !t.1).unwrap_or_default(),
            n => self.transition_types[n - 1],
        };
        let (off, _, name) = &self.types[idx];
        (*off, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_from_tzif() {
        let Some(berlin) = Location::load("Europe/Berlin") else {
            // No zoneinfo on this machine: Go falls back to UTC as well.
            return;
        };
        assert_eq!(berlin.lookup(1_600_000_000), (7200, "CEST"));
        assert_eq!(berlin.lookup(1_610_000_000), (3600, "CET"));
        assert!(Location::load("Not/AZone").is_none());
        assert!(Location::load("../etc/passwd").is_none());
    }
}
