#include "error.h"
#include "identity.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

static int parse_id(const char *name, const char *s, unsigned long *v, char *err, size_t len)
{
	char *end;
	errno = 0;
	unsigned long x = s ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || errno || *end || x > 0x7fffffffUL) {
		snprintf(err, len, "%s=\"%s\" is not a numeric id (set by sudo; unset it or fix it)", name,
			 s ? s : "");
		return -1;
	}
	*v = x;
	return 0;
}

int mg_identity_from_env(struct mg_identity *id, char *err, size_t len)
{
	memset(id, 0, sizeof *id);
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	if (geteuid() != 0 || !su)
		return 0;
	unsigned long uid, gid;
	if (parse_id("SUDO_UID", su, &uid, err, len) < 0 || parse_id("SUDO_GID", sg, &gid, err, len) < 0)
		return -1;
	if (uid == 0)
		return 0; /* sudo from root: nothing to give back */
	id->drop = true;
	id->uid = (uid_t)uid;
	id->gid = (gid_t)gid;
	id->groups[0] = id->gid;
	id->ngroups = 1;
	/* Resolve names and groups here, before fork: the child only switches. */
	struct passwd pw, *res = NULL;
	char buf[16384];
	if (getpwuid_r(id->uid, &pw, buf, sizeof buf, &res) == 0 && res) {
		snprintf(id->user, sizeof id->user, "%s", pw.pw_name);
		snprintf(id->home, sizeof id->home, "%s", pw.pw_dir);
		int n = MG_MAX_GROUPS;
		if (getgrouplist(pw.pw_name, id->gid, id->groups, &n) < 0)
			n = MG_MAX_GROUPS; /* more groups than we keep: the first 64 */
		id->ngroups = n;
	}
	return 0;
}

int mg_identity_apply(const struct mg_identity *id)
{
	if (!id->drop)
		return 0;
	if (setgroups((size_t)id->ngroups, id->groups) < 0 || setgid(id->gid) < 0 || setuid(id->uid) < 0)
		return -1;
	/* Paranoia that costs nothing: root must be gone for good. */
	if (setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	if (id->home[0] && setenv("HOME", id->home, 1) < 0)
		return -1;
	if (id->user[0] && (setenv("USER", id->user, 1) < 0 || setenv("LOGNAME", id->user, 1) < 0))
		return -1;
	return 0;
}

/* The process-wide file system identity (see identity.h). */
static struct {
	bool user;              /* mg_fs_as_user switched to the invoking user */
	uid_t uid;
	gid_t gid;
	int root_depth;         /* nesting of mg_fs_root_begin */
} fs_state;

static int set_fs_ids(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
	/* both return the previous value, never an error: ask again to check */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int mg_fs_as_user(const struct mg_identity *id, char *err, size_t len)
{
	if (!id->drop)
		return 0;
	/* groups first: a root-group-writable file must not be writable to the
	 * user through root's groups */
	if (setgroups((size_t)id->ngroups, id->groups) < 0 || set_fs_ids(id->uid, id->gid) < 0) {
		snprintf(err, len, "cannot take the file system identity of uid %d (from SUDO_UID): %s (%s)",
			 (int)id->uid, MG_ERRNO(errno));
		return -1;
	}
	fs_state.user = true;
	fs_state.uid = id->uid;
	fs_state.gid = id->gid;
	return 0;
}

void mg_fs_root_begin(void)
{
	if (fs_state.user && fs_state.root_depth++ == 0 && set_fs_ids(0, 0) < 0)
		abort(); /* cannot happen with euid 0; going on would be unsafe */
}

void mg_fs_root_end(void)
{
	if (fs_state.user && --fs_state.root_depth == 0 && set_fs_ids(fs_state.uid, fs_state.gid) < 0)
		abort(); /* the same: never carry on with root's file rights */
}

bool mg_fs_is_root(void)
{
	return !fs_state.user || fs_state.root_depth > 0;
}

uid_t mg_fs_uid(void)
{
	return (uid_t)setfsuid((uid_t)-1); /* -1 changes nothing, returns the current one */
}
