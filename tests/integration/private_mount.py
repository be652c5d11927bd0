"""The unshare options for a mount namespace whose bind mounts stay in it,
on a normal host and in a plain chroot; used by postfix_peer and
sendmail_peer to show a program a private /etc/postfix or /etc/hosts.

It must never make a mount that could be seen outside that namespace:
when it cannot tell that a mount stays private, it gives no namespace.

`unshare --mount` makes every mount private (mount(MS_REC|MS_PRIVATE) on
"/"), which fails with EINVAL in a chroot, whose "/" is not a mount
point.  There `--propagation unchanged` works, and is safe when the mount
holding the bind mount's target is not shared: a mount made under a
shared mount would propagate to its peers, the host's among them.  In a
chroot that mount is not in /proc/self/mountinfo (it is above "/"); it is
the parent of the chroot's top mounts (proc, dev...), and pid 1's
mountinfo, the whole namespace, says whether it is shared.
"""
import functools
import os
import re
import shutil
import subprocess

# set to anything: no mount namespace, as where none can be private
# (a chroot on a host whose "/" is shared), to try the ways without one
FORCE_NONE = "SASLKIT_TEST_NO_MOUNT_NS"
ROOT_EINVAL = "cannot change root filesystem propagation"


def read_mountinfo(path):
    """The mounts of a mountinfo file: dicts of id, parent, point (the
    mount point, its octal escapes undone) and shared (in a peer group)."""
    mounts = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            optional = fields[6:fields.index("-")]
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)),
                           fields[4])
            mounts.append({"id": fields[0], "parent": fields[1],
                           "point": point, "shared": any(
                               o.startswith("shared:") for o in optional)})
    return mounts


def holds(point, path):
    """Whether path is at or under the mount point point."""
    return point == "/" or path == point or path.startswith(point + "/")


def holder(target):
    """The mount that holds target, as a mount made on target sees it
    (its parent), or None and why it cannot be told."""
    mine = read_mountinfo("/proc/self/mountinfo")
    under = [m for m in mine if holds(m["point"], target)]
    if under:
        return max(under, key=lambda m: len(m["point"])), None
    ids = {m["id"] for m in mine}
    parents = {m["parent"] for m in mine if m["parent"] not in ids}
    if len(parents) != 1:
        return None, "the mount holding / is not the one parent of the " \
            "mounts seen (%d parents)" % len(parents)
    try:
        whole = {m["id"]: m for m in read_mountinfo("/proc/1/mountinfo")}
    except OSError as e:
        return None, "pid 1's mountinfo cannot be read: %s" % e
    if not ids <= whole.keys():
        return None, "pid 1 is in another mount namespace"
    found = whole.get(parents.pop())
    return found, None if found else "the mount holding / is not in " \
        "pid 1's mountinfo"


@functools.lru_cache(maxsize=None)
def unshare_mount(target):
    """(the unshare options for a mount namespace in which a mount on
    target stays private, how it was told) or (None, why there is none)."""
    if os.environ.get(FORCE_NONE):
        return None, "%s is set" % FORCE_NONE
    if shutil.which("unshare") is None:
        return None, "unshare (util-linux) missing: run make deps"
    r = subprocess.run(["unshare", "--mount", "true"], capture_output=True,
                       text=True)
    if r.returncode == 0:
        return (["--mount", "--propagation", "private"],
                "/ is a mount point: every mount made private")
    if ROOT_EINVAL not in r.stderr:
        return None, "unshare --mount failed: %s" % r.stderr.strip()
    m, why = holder(target)
    if m is None:
        return None, "/ is not a mount point, and %s" % why
    if m["shared"]:
        return None, "/ is not a mount point, and %s's mount (%s, id %s) " \
            "is shared: a mount on it would reach the host" % (
                target, m["point"], m["id"])
    return (["--mount", "--propagation", "unchanged"],
            "/ is not a mount point (a chroot); %s's mount (%s, id %s) is "
            "not shared, so nothing made in the namespace leaves it" % (
                target, m["point"], m["id"]))
