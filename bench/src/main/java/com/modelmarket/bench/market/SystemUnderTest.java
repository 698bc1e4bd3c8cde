package com.modelmarket.bench.market;

/**
 * A server the load goes to: its name in the report, its port on 127.0.0.1, and its process
 * (whose CPU time is read around each measured window).
 */
interface SystemUnderTest {

    String name();

    int port();

    ProcessHandle process();

    /** Processes that work for it but are not its descendants (a daemonised PostgreSQL); their CPU counts as its children's. */
    default java.util.List<ProcessHandle> helpers() {
        return java.util.List.of();
    }
}
