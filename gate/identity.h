/* identity: who the fixture runs as. Started through sudo, memgate keeps
 * root to create the cgroup, but the fixture gets the invoking user's uid,
 * gid, supplementary groups and HOME: a service under test never runs as
 * root because the gate needed root. */
#ifndef MG_IDENTITY_H
#define MG_IDENTITY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MG_MAX_GROUPS 64

struct mg_identity {
	bool drop;              /* switch to uid/gid before exec */
	uid_t uid;
	gid_t gid;
	gid_t groups[MG_MAX_GROUPS];
	int ngroups;
	char user[64];          /* "" when the uid has no passwd entry */
	char home[PATH_MAX];    /* "" when unknown: HOME is left alone */
};

/* From SUDO_UID/SUDO_GID when memgate runs as root; drop = false otherwise.
 * 0, or -1 with err for a malformed SUDO_UID/SUDO_GID. */
int mg_identity_from_env(struct mg_identity *id, char *err, size_t len);
/* In the child before exec: groups, gid, uid (in that order), then HOME,
 * USER, LOGNAME. -1 with errno on failure; the child must not exec then. */
int mg_identity_apply(const struct mg_identity *id);

/* Which identity the file system sees. Started through sudo, memgate opens
 * every file as the invoking user: mg_fs_as_user switches the file system
 * uid and gid (setfsuid/setfsgid) and the groups to the user's, once, in
 * main, so a config, report, token file, baseline or hook the user names is
 * read or written with the user's rights, never root's. Root stays the
 * effective uid, for the only things it is kept for: cgroup operations
 * (bracketed by mg_fs_root_begin/end in cgroup*.c and spawn.c) and signals
 * to the fixture (kill.c). The state behind this is the one static in
 * identity.c. 0, or -1 with err. A no-op when id->drop is false. */
int mg_fs_as_user(const struct mg_identity *id, char *err, size_t len);
/* Root's file system rights for a cgroup operation; nests. */
void mg_fs_root_begin(void);
void mg_fs_root_end(void);
/* Does the file system see root now (no sudo, or inside begin/end)? */
bool mg_fs_is_root(void);
/* The uid the file system sees now (for messages). */
uid_t mg_fs_uid(void);

#endif
