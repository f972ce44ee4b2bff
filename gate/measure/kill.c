#include "error.h"
#include "measure/kill.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int mg_pidref_open(pid_t pid, struct mg_pidref *r)
{
	r->pid = pid;
	r->fd = -1;
	if (pid <= 1 || pid == getpid()) { /* never: init, every process (-1), a group (<0), ourselves */
		errno = EINVAL;
		return -1;
	}
	long fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		r->fd = (int)fd;
		return 0;
	}
	if (errno == ESRCH)
		return 1;
	if (errno == ENOSYS)
		return mg_pidref_exists(r) ? 0 : 1; /* before Linux 5.3: by pid */
	return -1;
}

bool mg_pidref_exists(const struct mg_pidref *r)
{
	if (r->fd >= 0)
		return syscall(SYS_pidfd_send_signal, r->fd, 0, NULL, 0) == 0;
	return kill(r->pid, 0) == 0 || errno == EPERM;
}

int mg_pidref_signal(const struct mg_pidref *r, int sig)
{
	long rc = r->fd >= 0 ? syscall(SYS_pidfd_send_signal, r->fd, sig, NULL, 0) : kill(r->pid, sig);
	return rc == 0 || errno == ESRCH ? 0 : -1;
}

void mg_pidref_close(struct mg_pidref *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

int mg_parse_stat_ids(const char *text, pid_t *ppid, uint64_t *start)
{
	/* comm may hold spaces and ')': the fields start after the last ')' */
	const char *p = strrchr(text, ')');
	if (!p || mg_parse_stat_ppid(text, ppid) < 0)
		return -1;
	p++;
	/* after ")" come field 3 (state) ... field 22 (starttime): 20 fields */
	for (int field = 3; field <= 22; field++) {
		if (*p != ' ')
			return -1;
		p++;
		if (field == 22) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p, &end, 10);
			if (errno || end == p || *p == '-' || (*end != ' ' && *end != '\n' && *end != '\0'))
				return -1;
			*start = v;
			return 0;
		}
		p += strcspn(p, " ");
	}
	return -1;
}

int mg_proc_id_read(pid_t pid, struct mg_proc_id *id, pid_t *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (mg_read_small_file(path, buf, sizeof buf) < 0)
		return errno == ENOENT || errno == ESRCH ? 1 : -1;
	pid_t pp;
	id->pid = pid;
	if (mg_parse_stat_ids(buf, &pp, &id->start) < 0)
		return -1;
	if (ppid)
		*ppid = pp;
	return 0;
}

int mg_proc_ids_add(struct mg_proc_ids *s, struct mg_proc_id id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct mg_proc_id *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (mg_pidset_add(&s->seen, id.pid) < 0)
		return -1;
	s->v[s->n++] = id;
	return 0;
}

void mg_proc_ids_clear(struct mg_proc_ids *s)
{
	s->n = 0;
	mg_pidset_clear(&s->seen);
}

void mg_proc_ids_free(struct mg_proc_ids *s)
{
	free(s->v);
	mg_pidset_free(&s->seen);
	memset(s, 0, sizeof *s);
}

/* The children of parent (a verified process, or memgate itself) that are,
 * each at the moment it is looked at, its children: appended to out. */
static int expand(struct mg_tree_reader *t, struct mg_proc_id parent, const struct mg_pidset *spare,
		  struct mg_pidset *kids, struct mg_proc_ids *out, char *err, size_t len)
{
	bool self = parent.pid == getpid();
	struct mg_pidref pref = {parent.pid, -1};
	if (!self) {
		struct mg_proc_id now;
		if (mg_pidref_open(parent.pid, &pref) != 0)
			return 0; /* gone: its children went to memgate, the subreaper */
		if (mg_proc_id_read(parent.pid, &now, NULL) != 0 || now.start != parent.start) {
			mg_pidref_close(&pref);
			return 0; /* not the process we verified any more */
		}
	}
	mg_pidset_clear(kids);
	int rc = mg_list_children(t, parent.pid, kids, err, len);
	for (size_t i = 0; rc == 0 && i < kids->n; i++) {
		pid_t kid = kids->v[i];
		if ((spare && mg_pidset_has(spare, kid)) || mg_pidset_has(&out->seen, kid))
			continue;
		struct mg_pidref kref;
		struct mg_proc_id id;
		pid_t ppid = 0;
		if (mg_pidref_open(kid, &kref) != 0)
			continue;
		bool ok = mg_proc_id_read(kid, &id, &ppid) == 0 && ppid == parent.pid &&
			  (self || mg_pidref_exists(&pref)) && mg_pidref_exists(&kref);
		mg_pidref_close(&kref);
		if (ok && mg_proc_ids_add(out, id) < 0) {
			snprintf(err, len, "out of memory");
			rc = -1;
		}
		if (!self && !mg_pidref_exists(&pref))
			break; /* the parent is gone: the rest of its list cannot be trusted */
	}
	mg_pidref_close(&pref);
	return rc;
}

int mg_collect_tree(struct mg_tree_reader *t, const struct mg_proc_id *root, const struct mg_pidset *spare,
		    struct mg_proc_ids *out, size_t from, char *err, size_t len)
{
	struct mg_pidset kids = {0};
	int rc = root ? expand(t, *root, spare, &kids, out, err, len) : 0;
	for (size_t i = from; rc == 0 && i < out->n; i++)
		rc = expand(t, out->v[i], spare, &kids, out, err, len);
	mg_pidset_free(&kids);
	return rc;
}

size_t mg_signal_ids(const struct mg_proc_ids *ids, int sig)
{
	size_t sent = 0;
	for (size_t i = 0; i < ids->n; i++) {
		struct mg_pidref r;
		struct mg_proc_id now;
		if (mg_pidref_open(ids->v[i].pid, &r) != 0)
			continue;
		if (mg_proc_id_read(r.pid, &now, NULL) == 0 && now.start == ids->v[i].start && mg_pidref_exists(&r) &&
		    mg_pidref_signal(&r, sig) == 0)
			sent++;
		mg_pidref_close(&r);
	}
	return sent;
}

int mg_signal_if(pid_t pid, int sig, mg_belongs_fn belongs, void *ctx)
{
	struct mg_pidref r;
	int rc = mg_pidref_open(pid, &r);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	rc = 0;
	if (belongs(pid, ctx) && mg_pidref_exists(&r))
		rc = mg_pidref_signal(&r, sig) == 0 ? 1 : -1;
	int e = errno;
	mg_pidref_close(&r);
	errno = e;
	return rc;
}

bool mg_proc_has_env(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = strlen(name), at = 0;
	bool found = false, start = true;
	int c;
	/* "K=V\0K=V\0...": compare name= at the start of each entry, streaming */
	while (!found && (c = getc(f)) != EOF) {
		if (c == '\0') {
			start = true;
			at = 0;
			continue;
		}
		if (!start)
			continue;
		if (at < n && c == (unsigned char)name[at]) {
			at++;
		} else if (at == n && c == '=') {
			found = true;
		} else {
			start = false;
		}
	}
	fclose(f);
	return found;
}

struct env_child {
	pid_t parent;
	const char *name;
};

static bool is_env_child(pid_t pid, void *ctx)
{
	const struct env_child *c = ctx;
	pid_t ppid = 0;
	struct mg_proc_id id;
	return mg_proc_id_read(pid, &id, &ppid) == 0 && ppid == c->parent && mg_proc_has_env(pid, c->name);
}

int mg_signal_children_with_env(struct mg_tree_reader *t, pid_t parent, const char *name, int sig, char *err,
				size_t len)
{
	struct mg_pidset kids = {0};
	struct env_child ctx = {parent, name};
	int sent = 0;
	if (mg_list_children(t, parent, &kids, err, len) < 0) {
		mg_pidset_free(&kids);
		return -1;
	}
	for (size_t i = 0; i < kids.n; i++) {
		int rc = mg_signal_if(kids.v[i], sig, is_env_child, &ctx);
		if (rc < 0) {
			snprintf(err, len, "cannot signal process %d: " MG_ERRNO_FMT, (int)kids.v[i], MG_ERRNO(errno));
			sent = -1;
			break;
		}
		sent += rc;
	}
	mg_pidset_free(&kids);
	return sent;
}

int mg_kill_descendants(struct mg_tree_reader *t, const struct mg_pidset *spare, size_t *killed, char *err,
			size_t len)
{
	struct mg_proc_id self = {getpid(), 0};
	struct mg_proc_ids found = {0};
	int rc = mg_collect_tree(t, &self, spare, &found, 0, err, len);
	*killed = rc == 0 ? mg_signal_ids(&found, SIGKILL) : 0;
	mg_proc_ids_free(&found);
	return rc;
}
