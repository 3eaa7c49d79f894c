/* test_cri_paths.c: a container's names from kubelet's log paths (the pod folder and the
 * /var/log/containers link), and the names that are not kubelet's. */
#include "ingest.h"
#include "ingest_int.h"
#include "test.h"

static bool is(struct lw_str s, const char *want)
{
    return s.n == strlen(want) && !memcmp(s.p, want, s.n);
}

static void test_pod_path(void)
{
    struct lw_kube_path k;
    CHECK_EQ(lw_ingest__kube_path_parse("/var/log/pods/kube-system_coredns-5d78c9869d-8xk2p_"
                                        "0d9a8c3e-6f1b-4c2d-9e7a-1b2c3d4e5f60/coredns/2.log",
                                        &k),
             0);
    CHECK(is(k.ns, "kube-system"));
    CHECK(is(k.pod, "coredns-5d78c9869d-8xk2p"));
    CHECK(is(k.uid, "0d9a8c3e-6f1b-4c2d-9e7a-1b2c3d4e5f60"));
    CHECK(is(k.container, "coredns"));
    CHECK(is(k.restart, "2"));
    CHECK_EQ(lw_ingest__kube_path_parse("c/0.log", &k), -1); /* no pod folder */
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid/c/0.log", &k), 0);
    CHECK(is(k.restart, "0"));
}

static void test_not_kubelet(void)
{
    struct lw_kube_path k;
    /* Kubelet's rotations and their gzip are the tail's to find, not containers. */
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid/c/0.log.20261205-101010", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid/c/0.log.20261205-101010.gz", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid/c/x.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid/c/.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod/c/0.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid_x/c/0.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns__uid/c/0.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("/p/ns_pod_uid//0.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("0.log", &k), -1);
    CHECK_EQ(lw_ingest__kube_path_parse("", &k), -1);
}

static void test_link_name(void)
{
    struct lw_kube_path k;
    struct lw_str id;
    const char *hex = "8b9f5c7e2a1d4f6e3c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f";
    char name[256];
    snprintf(name, sizeof name, "coredns-5d78c9869d-8xk2p_kube-system_coredns-%s.log", hex);
    CHECK_EQ(lw_ingest__kube_link_parse(name, &k, &id), 0);
    CHECK(is(k.pod, "coredns-5d78c9869d-8xk2p"));
    CHECK(is(k.ns, "kube-system"));
    CHECK(is(k.container, "coredns"));
    CHECK(is(id, hex));
    CHECK_EQ(k.uid.n, 0);
    snprintf(name, sizeof name, "pod_ns_c-%.63s.log", hex); /* 63 digits */
    CHECK_EQ(lw_ingest__kube_link_parse(name, &k, &id), -1);
    snprintf(name, sizeof name, "pod_ns-%s.log", hex);
    CHECK_EQ(lw_ingest__kube_link_parse(name, &k, &id), -1);
    CHECK_EQ(lw_ingest__kube_link_parse("short.log", &k, &id), -1);
}

int main(void)
{
    test_pod_path();
    test_not_kubelet();
    test_link_name();
    return test_summary();
}
