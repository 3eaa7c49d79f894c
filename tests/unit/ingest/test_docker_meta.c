/* test_docker_meta.c: a container's labels from config.v2.json as dockerd writes it (the shape of
 * daemon/container.Container marshalled by Docker 25), the 1 MiB cap, and documents that are not
 * a container's. */
#include "ingest.h"
#include "ingest_int.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ID "3f4e1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

/* A compose service's container: dockerd writes the whole struct on one line. */
static const char config_v2[] =
    "{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Paused\":false,\"Restarting\":false,"
    "\"OOMKilled\":false,\"RemovalInProgress\":false,\"Dead\":false,\"Pid\":41729,\"ExitCode\":0,"
    "\"Error\":\"\",\"StartedAt\":\"2026-12-05T10:10:10.123456789Z\",\"FinishedAt\":\"0001-01-"
    "01T00:00:00Z\",\"Health\":null},\"ID\":\"" ID "\",\"Created\":\"2026-12-05T10:10:09.9Z\","
    "\"Managed\":false,\"Path\":\"/docker-entrypoint.sh\",\"Args\":[\"nginx\",\"-g\",\"daemon "
    "off;\"],\"Config\":{\"Hostname\":\"3f4e1a2b9c8d\",\"Domainname\":\"\",\"User\":\"\","
    "\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,\"ExposedPorts\":{\"80/"
    "tcp\":{}},\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":[\"PATH=/usr/local/"
    "sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"NGINX_VERSION=1.25.3\"],\"Cmd\":["
    "\"nginx\",\"-g\",\"daemon off;\"],\"Image\":\"nginx:1.25\",\"Volumes\":null,\"WorkingDir\":"
    "\"\",\"Entrypoint\":[\"/docker-entrypoint.sh\"],\"OnBuild\":null,\"Labels\":{\"com.docker."
    "compose.config-hash\":\"9c1f\",\"com.docker.compose.container-number\":\"1\",\"com.docker."
    "compose.oneoff\":\"False\",\"com.docker.compose.project\":\"shop\",\"com.docker.compose."
    "service\":\"web\",\"com.docker.compose.version\":\"2.24.5\",\"com.example.team\":"
    "\"payments\",\"maintainer\":\"NGINX Docker Maintainers <docker-maint@nginx.com>\"},"
    "\"StopSignal\":\"SIGQUIT\"},\"Image\":\"sha256:"
    "a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a9"
    "7d30440c8eac2be6\",\"ImageManifest\":null,\"NetworkSettings\":{\"Bridge\":\"\",\"SandboxID\":"
    "\"\",\"Networks\":{\"shop_default\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":[\"web\"]}"
    "}},"
    "\"LogPath\":\"/var/lib/docker/containers/" ID "/" ID "-json.log\",\"Name\":\"/shop-web-1\","
    "\"Driver\":\"overlay2\",\"OS\":\"linux\",\"RestartCount\":0,\"HasBeenStartedBeforeHealth"
    "Check\":false,\"HasBeenManuallyStopped\":false,\"MountPoints\":{},\"SecretReferences\":null,"
    "\"ConfigReferences\":null,\"MountLabel\":\"\",\"ProcessLabel\":\"\",\"AppArmorProfile\":"
    "\"docker-default\",\"SeccompProfile\":\"\",\"NoNewPrivileges\":false,\"LocalLogCacheMeta\":{"
    "\"HaveNotifyEnabled\":false}}";

static void test_compose_container(void)
{
    struct lw_docker_meta m;
    struct lw_err err = {0};
    CHECK_EQ(lw_ingest__docker_meta_parse(config_v2, sizeof config_v2 - 1, &m, &err), LW_OK);
    CHECK_STR(m.id, ID);
    CHECK_STR(m.name, "shop-web-1");
    CHECK_STR(m.image, "nginx:1.25");
    CHECK_STR(m.compose_service, "web");
    CHECK_STR(m.compose_project, "shop");
    CHECK(m.running);
    CHECK_EQ(m.nlabels, 8);
    /* Sorted by key, each as label.<key>. */
    CHECK_STR(m.label_names[0], "label.com.docker.compose.config-hash");
    CHECK_STR(m.label_names[6], "label.com.example.team");
    CHECK_STR(m.label_values[6], "payments");
    CHECK_STR(m.label_names[7], "label.maintainer");

    struct lw_labelset *ls = lw_ingest__docker_labels(&m);
    lw_ingest__docker_meta_free(&m); /* the set is a copy */
    CHECK_EQ(ls->slot[LW_L_CONTAINER].n, 10);
    CHECK(!memcmp(ls->slot[LW_L_CONTAINER].p, "shop-web-1", 10));
    CHECK(!memcmp(ls->slot[LW_L_IMAGE].p, "nginx:1.25", 10));
    CHECK(!memcmp(ls->slot[LW_L_COMPOSE_PROJECT].p, "shop", 4));
    CHECK(ls->slot[LW_L_NAMESPACE].p == NULL);
    const struct lw_str *v = lw_labelset_get(ls, "label.com.example.team", 22);
    CHECK(v && v->n == 8 && !memcmp(v->p, "payments", 8));
    CHECK(lw_labelset_get(ls, "label.nosuch", 12) == NULL);
    CHECK(lw_labelset_get(NULL, "label.x", 7) == NULL);

    /* A batch holds its own reference: the container may be forgotten first. */
    struct lw_batch *b = lw_batch_new(0, "s", 0);
    lw_batch_set_labels(b, ls);
    lw_labelset_unref(ls);
    CHECK(!memcmp(b->labels[LW_L_CONTAINER_ID].p, ID, 64));
    CHECK_EQ(b->set->nextra, 8);
    lw_batch_free(b);
}

static void test_plain_container(void)
{
    /* docker run --name db postgres:16, stopped; no labels at all. */
    static const char j[] = "{\"State\":{\"Running\":false,\"ExitCode\":0},\"ID\":\"" ID "\","
                            "\"Config\":{\"Image\":\"postgres:16\",\"Labels\":null},"
                            "\"Name\":\"/db\"}";
    struct lw_docker_meta m;
    struct lw_err err = {0};
    CHECK_EQ(lw_ingest__docker_meta_parse(j, sizeof j - 1, &m, &err), LW_OK);
    CHECK_STR(m.name, "db");
    CHECK(!m.running);
    CHECK(m.compose_service == NULL);
    CHECK_EQ(m.nlabels, 0);
    struct lw_labelset *ls = lw_ingest__docker_labels(&m);
    CHECK(ls->slot[LW_L_COMPOSE_SERVICE].p == NULL);
    CHECK_EQ(ls->nextra, 0);
    lw_labelset_unref(ls);
    lw_ingest__docker_meta_free(&m);
}

static void test_not_a_container(void)
{
    struct lw_docker_meta m;
    struct lw_err err = {0};
    CHECK_EQ(lw_ingest__docker_meta_parse("{\"ID\":", 6, &m, &err), LW_EINVAL);
    CHECK(strstr(err.msg, "not JSON") != NULL);
    CHECK_EQ(lw_ingest__docker_meta_parse("[1]", 3, &m, &err), LW_EINVAL);
    CHECK_EQ(lw_ingest__docker_meta_parse("{\"Name\":\"/x\"}", 13, &m, &err), LW_EINVAL);
    CHECK(strstr(err.msg, "ID") != NULL);
}

static void test_read_limits(void)
{
    char dir[] = "/tmp/lw-docker-meta-XXXXXX", path[64];
    struct lw_docker_meta m;
    struct lw_err err = {0};
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/config.v2.json", dir);
    CHECK_EQ(lw_ingest__docker_meta_read(path, LW_DOCKER_META_MAX, &m, &err), LW_ENOENT);
    FILE *f = fopen(path, "w");
    fputs(config_v2, f);
    fclose(f);
    CHECK_EQ(lw_ingest__docker_meta_read(path, LW_DOCKER_META_MAX, &m, &err), LW_OK);
    CHECK_STR(m.name, "shop-web-1");
    lw_ingest__docker_meta_free(&m);
    /* Over the cap: refused before it is read, and said. */
    CHECK_EQ(lw_ingest__docker_meta_read(path, 100, &m, &err), LW_EFULL);
    CHECK(strstr(err.msg, "more than") != NULL);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_compose_container();
    test_plain_container();
    test_not_a_container();
    test_read_limits();
    return test_summary();
}
