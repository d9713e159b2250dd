//! Detection of the container pygen itself runs in.
//!
//! Templates see it as `own_container_id` and `.self`, and actions use it to skip pygen's own
//! container. docker-pygen only recognised cgroup lines ending in `/<64 hex>`, which misses the
//! systemd cgroup driver and cgroup v2, the default on current hosts. This module tries three
//! sources, most reliable first:
//!
//! 1. `/proc/self/cgroup`: works on cgroup v1 (cgroupfs and systemd drivers), on cgroup v2 with
//!    the host cgroup namespace, with a custom `--cgroup-parent`, under Kubernetes and Podman.
//! 2. `/proc/self/mountinfo`: with a private cgroup namespace (the Docker default on cgroup v2)
//!    the cgroup file only says `0::/`, but Docker bind-mounts `/etc/hostname`, `/etc/hosts` and
//!    `/etc/resolv.conf` from `<docker root>/containers/<id>/`, and the mount table names that
//!    directory.
//! 3. The hostname: Docker names a container's host after the first 12 hex digits of its id unless
//!    told otherwise. This only yields a prefix, which the caller resolves against the ids the
//!    daemon reports.
//!
//! What counts as a container id (the judgment calls):
//!
//! - In a cgroup path, a segment that is exactly 64 lowercase hex digits (cgroupfs driver,
//!   `--cgroup-parent`, Kubernetes cgroupfs), or a systemd scope named `docker-<id>.scope`,
//!   `libpod-<id>.scope`, `crio-<id>.scope` or `cri-containerd-<id>.scope`. Any other unit that
//!   happens to contain 64 hex digits (`session-<hex>.scope`, `run-<hex>.scope`,
//!   `libpod-conmon-<id>.scope`, which is Podman's monitor process and not the container) is not an
//!   id. When a path holds several ids (Docker in Docker), the deepest one is ours.
//! - In the mount table, only mounts on `/etc/hostname`, `/etc/hosts` or `/etc/resolv.conf` whose
//!   source is `…/containers/<id>/<same file>` (Docker, any data root) or
//!   `…/overlay-containers/<id>/userdata/<same file>` (Podman) count. Overlay layer directories
//!   elsewhere in the table are also 64 hex digits long and must not be taken for the id.
//! - A hostname counts only if it is 12 to 64 lowercase hex digits.
//!
//! Whatever is found is a claim, not a fact: pygen may talk to another host's daemon. Callers
//! should keep it only if the daemon knows a container with that id ([`OwnId::resolve`]).

use std::fmt;
use std::path::Path;

/// The container pygen believes it runs in, as far as the local files tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnId {
    /// A full container id (64 lowercase hex digits) from the cgroup file or the mount table.
    Full(String),
    /// A prefix of the container id (12 to 63 lowercase hex digits), taken from the hostname.
    /// It must be resolved against the daemon's container ids before use.
    Prefix(String),
}

impl OwnId {
    /// The id or prefix as found.
    pub fn as_str(&self) -> &str {
        match self {
            OwnId::Full(id) | OwnId::Prefix(id) => id,
        }
    }

    /// Whether the full container id `id` is the one this value names: equal for
    /// [`OwnId::Full`], a prefix match for [`OwnId::Prefix`].
    pub fn matches(&self, id: &str) -> bool {
        match self {
            OwnId::Full(own) => own == id,
            OwnId::Prefix(prefix) => id.starts_with(prefix.as_str()),
        }
    }

    /// Picks pygen's own container among the full ids the daemon reports.
    ///
    /// Returns `None` when no id matches, or when a prefix matches more than one id: guessing
    /// would make pygen skip or describe the wrong container.
    pub fn resolve<'a, I>(&self, ids: I) -> Option<&'a str>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut found = None;
        for id in ids {
            if self.matches(id) {
                if found.is_some_and(|f| f != id) {
                    return None;
                }
                found = Some(id);
            }
        }
        found
    }
}

impl fmt::Display for OwnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Detects the container this process runs in, from `/proc/self/cgroup`, then
/// `/proc/self/mountinfo`, then `/etc/hostname` and the kernel's hostname.
///
/// Returns `None` outside a container, or when none of the sources says anything recognisable.
/// Unreadable files are treated as saying nothing.
pub fn detect() -> Option<OwnId> {
    detect_with(|path| std::fs::read_to_string(path).ok())
}

/// [`detect`] with the file reader passed in, so the order of the fallbacks can be tested.
fn detect_with(read: impl Fn(&Path) -> Option<String>) -> Option<OwnId> {
    if let Some(id) = read(Path::new("/proc/self/cgroup")).and_then(|t| from_cgroup(&t)) {
        return Some(OwnId::Full(id));
    }
    if let Some(id) = read(Path::new("/proc/self/mountinfo")).and_then(|t| from_mountinfo(&t)) {
        return Some(OwnId::Full(id));
    }
    ["/etc/hostname", "/proc/sys/kernel/hostname"]
        .into_iter()
        .find_map(|p| read(Path::new(p)).and_then(|t| from_hostname(&t)))
        .map(|h| {
            if h.len() == FULL_ID_LEN {
                OwnId::Full(h)
            } else {
                OwnId::Prefix(h)
            }
        })
}

/// Length of a full container id in hex digits.
const FULL_ID_LEN: usize = 64;

/// Length of the short id Docker uses as the default hostname.
const SHORT_ID_LEN: usize = 12;

/// systemd scope prefixes under which container runtimes place a container's processes.
const SCOPE_PREFIXES: [&str; 4] = ["docker-", "libpod-", "crio-", "cri-containerd-"];

/// Files a container runtime bind-mounts from the container's own directory into `/etc`.
const ETC_FILES: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_full_id(s: &str) -> bool {
    s.len() == FULL_ID_LEN && is_lower_hex(s)
}

/// The container id a single cgroup path segment names, if any.
fn id_from_cgroup_segment(segment: &str) -> Option<&str> {
    if is_full_id(segment) {
        return Some(segment);
    }
    let unit = segment.strip_suffix(".scope")?;
    SCOPE_PREFIXES
        .iter()
        .find_map(|p| unit.strip_prefix(p))
        .filter(|id| is_full_id(id))
}

/// Finds the container id in the text of `/proc/self/cgroup`.
///
/// Each line is `hierarchy:controllers:path`; the first line whose path names a container (see
/// the module documentation for what counts) wins, and within a path the deepest segment does.
/// Returns `None` for `0::/` (a private cgroup namespace) and on hosts outside containers.
pub fn from_cgroup(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let path = line.trim().splitn(3, ':').nth(2)?;
        path.split('/')
            .rev()
            .find_map(id_from_cgroup_segment)
            .map(str::to_owned)
    })
}

/// Finds the container id in the text of `/proc/self/mountinfo`.
///
/// Looks for the bind mount of `/etc/hostname`, `/etc/hosts` or `/etc/resolv.conf` from the
/// runtime's per-container directory: `…/containers/<id>/<file>` for Docker (whatever its data
/// root, also when the data root is a file system of its own, where the mount source is
/// `/containers/<id>/<file>` or `/<id>/<file>`), `…/overlay-containers/<id>/userdata/<file>` for
/// Podman. The file must be the one mounted (`hostname` on `/etc/hostname`).
pub fn from_mountinfo(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        // Fields: mount id, parent id, major:minor, root, mount point, options, ...
        let mut fields = line.split(' ');
        let root = fields.nth(3)?;
        let mount_point = fields.next()?;
        let file = mount_point.strip_prefix("/etc/")?;
        if !ETC_FILES.contains(&file) {
            return None;
        }
        let mut segments = root.rsplit('/');
        if segments.next()? != file {
            return None;
        }
        let parent = segments.next()?;
        let id = if parent == "userdata" {
            let id = segments.next()?;
            (segments.next()? == "overlay-containers").then_some(id)?
        } else {
            let above = segments.next()?;
            (above == "containers" || above.is_empty()).then_some(parent)?
        };
        is_full_id(id).then(|| id.to_owned())
    })
}

/// Takes a hostname as a possible container id prefix: 12 to 64 lowercase hex digits, surrounding
/// whitespace (the trailing newline of `/etc/hostname`) ignored.
///
/// A 64-digit result is a full id. Anything else (a name set with `--hostname`, uppercase, a host
/// name of a machine) gives `None`.
pub fn from_hostname(text: &str) -> Option<String> {
    let name = text.trim();
    ((SHORT_ID_LEN..=FULL_ID_LEN).contains(&name.len()) && is_lower_hex(name))
        .then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4b5e1c9d2a7b8c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f";
    const OTHER: &str = "aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999";

    #[test]
    fn cgroup_v1_cgroupfs() {
        let text =
            format!("12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_v1_systemd_driver() {
        let text = format!(
            "12:pids:/system.slice/docker-{ID}.scope\n\
             1:name=systemd:/system.slice/docker-{ID}.scope\n"
        );
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_v2_host_namespace() {
        let text = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_v2_host_namespace_with_child_cgroup() {
        // A container running systemd moves its processes into a child of the scope.
        let text = format!("0::/system.slice/docker-{ID}.scope/init.scope\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_v2_private_namespace_says_nothing() {
        assert_eq!(from_cgroup("0::/\n"), None);
        // cgroup v1 with a private namespace looks the same, per controller.
        assert_eq!(from_cgroup("12:pids:/\n11:memory:/\n"), None);
    }

    #[test]
    fn cgroup_custom_parent() {
        let text = format!("0::/my-parent/{ID}\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
        let text = format!("5:cpu,cpuacct:/my-parent/{ID}\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_kubepods() {
        let text = format!(
            "11:memory:/kubepods/besteffort/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/{ID}\n"
        );
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
        let text = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/\
             kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/\
             cri-containerd-{ID}.scope\n"
        );
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
        let text = format!("0::/kubepods.slice/kubepods-pod1.slice/crio-{ID}.scope\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_podman() {
        let text = format!("0::/machine.slice/libpod-{ID}.scope/container\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
        let text = format!("0::/user.slice/user-1000.slice/user@1000.service/libpod-{ID}.scope\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_podman_monitor_is_not_the_container() {
        let text = format!("0::/machine.slice/libpod-conmon-{ID}.scope\n");
        assert_eq!(from_cgroup(&text), None);
    }

    #[test]
    fn cgroup_docker_in_docker_takes_the_deepest_id() {
        let text = format!("4:pids:/docker/{OTHER}/docker/{ID}\n");
        assert_eq!(from_cgroup(&text).as_deref(), Some(ID));
    }

    #[test]
    fn cgroup_non_container_hosts() {
        assert_eq!(
            from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n"),
            None
        );
        assert_eq!(from_cgroup("0::/init.scope\n"), None);
        let v1 =
            "12:pids:/user.slice/user-1000.slice\n1:name=systemd:/user.slice/session-2.scope\n";
        assert_eq!(from_cgroup(v1), None);
        assert_eq!(from_cgroup(""), None);
    }

    #[test]
    fn cgroup_hex_inside_other_unit_names_is_not_an_id() {
        for unit in [
            format!("session-{ID}.scope"),
            format!("run-{ID}.scope"),
            format!("docker-{ID}.service"),
            format!("docker-{ID}"),
            format!("{ID}.scope"),
            format!("docker-{}.scope", ID.to_uppercase()),
            format!("docker-{}.scope", &ID[..63]),
        ] {
            let text = format!("0::/system.slice/{unit}\n");
            assert_eq!(from_cgroup(&text), None, "{unit}");
        }
    }

    #[test]
    fn cgroup_bare_segment_must_be_exactly_64_lowercase_hex() {
        assert_eq!(from_cgroup(&format!("0::/docker/{}\n", &ID[..63])), None);
        assert_eq!(from_cgroup(&format!("0::/docker/{ID}0\n")), None);
        assert_eq!(
            from_cgroup(&format!("0::/docker/{}\n", ID.to_uppercase())),
            None
        );
        // The original's pattern `.*/[0-9a-f]{64}$` matched the tail of a longer name.
        assert_eq!(from_cgroup(&format!("0::/docker/x{ID}\n")), None);
    }

    fn mountinfo_line(root: &str, mount_point: &str) -> String {
        format!(
            "612 597 8:1 {root} {mount_point} rw,relatime - ext4 /dev/sda1 rw,errors=remount-ro"
        )
    }

    /// The mount table of a Docker container on a cgroup v2 host, shortened.
    fn docker_mountinfo(data_root: &str) -> String {
        [
            format!(
                "597 540 0:52 / / rw,relatime master:300 - overlay overlay rw,\
                 lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,\
                 upperdir=/var/lib/docker/overlay2/{OTHER}/diff,\
                 workdir=/var/lib/docker/overlay2/{OTHER}/work"
            ),
            "598 597 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw".to_owned(),
            "603 597 0:29 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw"
                .to_owned(),
            mountinfo_line(
                &format!("{data_root}/containers/{ID}/resolv.conf"),
                "/etc/resolv.conf",
            ),
            mountinfo_line(
                &format!("{data_root}/containers/{ID}/hostname"),
                "/etc/hostname",
            ),
            mountinfo_line(&format!("{data_root}/containers/{ID}/hosts"), "/etc/hosts"),
        ]
        .join("\n")
    }

    #[test]
    fn mountinfo_docker_default_root() {
        let text = docker_mountinfo("/var/lib/docker");
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
    }

    #[test]
    fn mountinfo_docker_custom_root() {
        let text = docker_mountinfo("/data/docker");
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
        // Data root on a file system of its own: the source is relative to that file system.
        let text = docker_mountinfo("");
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
        let text = mountinfo_line(&format!("/{ID}/hostname"), "/etc/hostname");
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
    }

    #[test]
    fn mountinfo_any_of_the_three_files_is_enough() {
        for file in ETC_FILES {
            let text = mountinfo_line(
                &format!("/var/lib/docker/containers/{ID}/{file}"),
                &format!("/etc/{file}"),
            );
            assert_eq!(from_mountinfo(&text).as_deref(), Some(ID), "{file}");
        }
    }

    #[test]
    fn mountinfo_podman() {
        let text = mountinfo_line(
            &format!(
                "/home/u/.local/share/containers/storage/overlay-containers/{ID}/userdata/hostname"
            ),
            "/etc/hostname",
        );
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
    }

    #[test]
    fn mountinfo_ignores_other_mounts_with_hex_ids() {
        let text = [
            format!(
                "597 540 0:52 / / rw,relatime - overlay overlay rw,upperdir=/var/lib/docker/overlay2/{ID}/diff"
            ),
            mountinfo_line(&format!("/var/lib/docker/volumes/{ID}/_data"), "/data"),
            // The right source on the wrong mount point, and the wrong file on the right one.
            mountinfo_line(&format!("/var/lib/docker/containers/{ID}/hostname"), "/tmp/hostname"),
            mountinfo_line(&format!("/var/lib/docker/containers/{ID}/hosts"), "/etc/hostname"),
            mountinfo_line(&format!("/var/lib/docker/overlay2/{ID}/hostname"), "/etc/hostname"),
            mountinfo_line(&format!("/var/lib/docker/containers/{}/hosts", &ID[..12]), "/etc/hosts"),
        ]
        .join("\n");
        assert_eq!(from_mountinfo(&text), None);
    }

    #[test]
    fn mountinfo_non_container_host() {
        let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n";
        assert_eq!(from_mountinfo(text), None);
        assert_eq!(from_mountinfo(""), None);
        assert_eq!(from_mountinfo("garbage"), None);
    }

    #[test]
    fn hostname_rules() {
        assert_eq!(
            from_hostname("3f4b5e1c9d2a\n").as_deref(),
            Some("3f4b5e1c9d2a")
        );
        assert_eq!(from_hostname(ID).as_deref(), Some(ID));
        assert_eq!(from_hostname("3f4b5e1c9d2"), None, "11 digits");
        assert_eq!(from_hostname(&format!("{ID}0")), None, "65 digits");
        assert_eq!(from_hostname("3F4B5E1C9D2A"), None, "uppercase");
        assert_eq!(from_hostname("web-1"), None);
        assert_eq!(from_hostname("3f4b5e1c9d2g"), None);
        assert_eq!(from_hostname(""), None);
    }

    fn fake_files<'a>(files: &'a [(&'a str, String)]) -> impl Fn(&Path) -> Option<String> + 'a {
        move |path| {
            files
                .iter()
                .find(|(p, _)| Path::new(p) == path)
                .map(|(_, t)| t.clone())
        }
    }

    #[test]
    fn detect_prefers_cgroup_then_mountinfo_then_hostname() {
        let cgroup = (
            "/proc/self/cgroup",
            format!("0::/system.slice/docker-{ID}.scope\n"),
        );
        let mounts = (
            "/proc/self/mountinfo",
            mountinfo_line(
                &format!("/var/lib/docker/containers/{OTHER}/hostname"),
                "/etc/hostname",
            ),
        );
        let hostname = ("/etc/hostname", "aaaabbbbcccc\n".to_owned());

        let all = [cgroup, mounts.clone(), hostname.clone()];
        assert_eq!(
            detect_with(fake_files(&all)),
            Some(OwnId::Full(ID.to_owned()))
        );

        let private_ns = [
            ("/proc/self/cgroup", "0::/\n".to_owned()),
            mounts,
            hostname.clone(),
        ];
        assert_eq!(
            detect_with(fake_files(&private_ns)),
            Some(OwnId::Full(OTHER.to_owned()))
        );

        let only_hostname = [("/proc/self/cgroup", "0::/\n".to_owned()), hostname];
        assert_eq!(
            detect_with(fake_files(&only_hostname)),
            Some(OwnId::Prefix("aaaabbbbcccc".to_owned()))
        );
    }

    #[test]
    fn detect_falls_back_to_the_kernel_hostname() {
        let files = [
            ("/etc/hostname", "web-1\n".to_owned()),
            ("/proc/sys/kernel/hostname", format!("{ID}\n")),
        ];
        assert_eq!(
            detect_with(fake_files(&files)),
            Some(OwnId::Full(ID.to_owned()))
        );
    }

    #[test]
    fn detect_on_a_plain_host() {
        let files = [
            (
                "/proc/self/cgroup",
                "0::/user.slice/user-1000.slice/session-3.scope\n".to_owned(),
            ),
            (
                "/proc/self/mountinfo",
                "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n".to_owned(),
            ),
            ("/etc/hostname", "build-host\n".to_owned()),
        ];
        assert_eq!(detect_with(fake_files(&files)), None);
        assert_eq!(detect_with(|_| None), None);
    }

    #[test]
    fn resolve_against_daemon_ids() {
        let ids = [ID, OTHER];
        assert_eq!(OwnId::Full(ID.to_owned()).resolve(ids), Some(ID));
        assert_eq!(OwnId::Prefix(ID[..12].to_owned()).resolve(ids), Some(ID));
        assert_eq!(OwnId::Prefix("bbbbbbbbbbbb".to_owned()).resolve(ids), None);
        assert_eq!(OwnId::Full(ID.to_owned()).resolve([OTHER]), None);

        let twin = format!("{}{}", &ID[..12], &OTHER[12..]);
        let ambiguous = [ID, twin.as_str()];
        assert_eq!(OwnId::Prefix(ID[..12].to_owned()).resolve(ambiguous), None);
        // The same id listed twice is not ambiguous.
        assert_eq!(
            OwnId::Prefix(ID[..12].to_owned()).resolve([ID, ID]),
            Some(ID)
        );
    }

    #[test]
    fn matches_and_display() {
        let full = OwnId::Full(ID.to_owned());
        assert!(full.matches(ID));
        assert!(!full.matches(&ID[..12]));
        let prefix = OwnId::Prefix(ID[..12].to_owned());
        assert!(prefix.matches(ID));
        assert!(!prefix.matches(OTHER));
        assert_eq!(prefix.to_string(), &ID[..12]);
    }
}
