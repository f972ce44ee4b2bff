/* Service-mode plumbing: ports, {port}, probes against real sockets, tails. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "measure/service.h"

static void port_and_substitution(void **state)
{
	(void)state;
	int port = 0;
	char err[128];
	assert_int_equal(mg_free_port(&port, err, sizeof err), 0);
	assert_true(port > 0 && port < 65536);
	char *s = mg_subst_port("127.0.0.1:{port}/x?p={port}", 8123);
	assert_string_equal(s, "127.0.0.1:8123/x?p=8123");
	free(s);
	s = mg_subst_port("no placeholder {por}", 1);
	assert_string_equal(s, "no placeholder {por}");
	free(s);
}

/* A listening socket on 127.0.0.1 with its port; answers one HTTP request. */
static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void tcp_probe(void **state)
{
	(void)state;
	int port;
	int fd = listen_loopback(&port);
	char hp[64], why[256];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	assert_int_equal(mg_probe_tcp(hp, why, sizeof why), 1);
	close(fd);
	assert_int_equal(mg_probe_tcp(hp, why, sizeof why), 0); /* nobody listens now */
	assert_int_equal(mg_probe_tcp("10.0.0.1:80", why, sizeof why), -1);
	assert_contains(why, "not a loopback address");
	assert_int_equal(mg_probe_tcp("127.0.0.1", why, sizeof why), -1);
	assert_int_equal(mg_probe_tcp("127.0.0.1:99999", why, sizeof why), -1);
	assert_int_equal(mg_probe_tcp("[::1]:1", why, sizeof why), 0);
}

static void http_probe_answers(int lfd, const char *status)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char buf[512];
		ssize_t n = recv(c, buf, sizeof buf, 0);
		(void)n;
		dprintf(c, "HTTP/1.0 %s\r\nContent-Length: 0\r\n\r\n", status);
		close(c);
		_exit(0);
	}
}

static void http_probe(void **state)
{
	(void)state;
	int port;
	int fd = listen_loopback(&port);
	char url[64], why[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
	http_probe_answers(fd, "503 Service Unavailable");
	assert_int_equal(mg_probe_http(url, 1000, why, sizeof why), 0);
	http_probe_answers(fd, "200 OK");
	assert_int_equal(mg_probe_http(url, 1000, why, sizeof why), 1);
	while (wait(NULL) > 0)
		;
	close(fd);
	assert_int_equal(mg_probe_http(url, 200, why, sizeof why), 0);
	assert_int_equal(mg_probe_http("https://127.0.0.1:1/", 200, why, sizeof why), -1);
	assert_int_equal(mg_probe_http("http://example.com/", 200, why, sizeof why), -1);
	assert_contains(why, "not a loopback");
}

static void tails_and_ready_regex(void **state)
{
	(void)state;
	regex_t re;
	assert_int_equal(regcomp(&re, "listening on [0-9.]+:[0-9]+", REG_EXTENDED | REG_NOSUB), 0);
	struct mg_tail *t = calloc(1, sizeof *t);
	mg_tail_append(t, "starting\nlisten", 15, &re);
	assert_false(t->matched);
	mg_tail_append(t, "ing on 127.0.0.1:8080\r\n", 23, &re); /* a line split across reads */
	assert_true(t->matched);
	assert_string_equal(t->last_line, "listening on 127.0.0.1:8080");
	assert_string_equal(mg_tail_text(t), "starting\nlistening on 127.0.0.1:8080\r\n");
	char big[20000];
	memset(big, 'x', sizeof big);
	mg_tail_append(t, big, sizeof big, &re);
	mg_tail_append(t, "\nrequests=2000\n", 15, NULL);
	assert_true(t->truncated);
	assert_true(strlen(mg_tail_text(t)) < MG_TAIL_BYTES);
	assert_string_equal(t->last_line, "requests=2000");
	assert_int_equal(mg_parse_requests_line(t->last_line), 2000);
	regfree(&re);
	free(t);
}

static void requests_line(void **state)
{
	(void)state;
	assert_int_equal(mg_parse_requests_line("requests=0"), 0);
	assert_int_equal(mg_parse_requests_line("requests=17 "), 17);
	assert_int_equal(mg_parse_requests_line("requests="), -1);
	assert_int_equal(mg_parse_requests_line("requests=-3"), -1);
	assert_int_equal(mg_parse_requests_line("requests=12x"), -1);
	assert_int_equal(mg_parse_requests_line("done"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_and_substitution),
		cmocka_unit_test(tcp_probe),
		cmocka_unit_test(http_probe),
		cmocka_unit_test(tails_and_ready_regex),
		cmocka_unit_test(requests_line),
	};
	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
