package com.modelmarket.marketplace;

import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts ModelMarket with the configuration from the environment; stops it cleanly on SIGTERM. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.setProperty("ai.djl.offline", "true");
        AppConfig config;
        try {
            config = ConfigLoader.fromEnvironment();
        } catch (IllegalArgumentException e) {
            System.err.println("Configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Vertx vertx = Vertx.vertx(new VertxOptions()
                .setBlockedThreadCheckInterval(1000)
                .setMaxEventLoopExecuteTime(2)
                .setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS)
                .setWarningExceptionTime(2)
                .setWarningExceptionTimeUnit(TimeUnit.SECONDS));
        Platform platform;
        try {
            platform = Platform.start(vertx, config).await(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            LOG.error("ModelMarket failed to start", e);
            vertx.close();
            System.exit(1);
            return;
        }
        String host = "0.0.0.0".equals(config.httpHost()) ? "localhost" : config.httpHost();
        System.out.println();
        System.out.println("ModelMarket is up: http://" + host + ":" + platform.port() + "/");
        System.out.println("  data directory: " + config.dataDir());
        System.out.println("  database:       " + platform.services().database().target()
                + (config.dbUrl().isPresent() ? "" : " (embedded)"));
        System.out.println("  readiness:      http://" + host + ":" + platform.port() + "/health/ready");
        platform.demoCredentials().ifPresent(demo -> demo.lines().forEach(line -> System.out.println("  " + line)));
        System.out.println();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                platform.stop().eventually(vertx::close).await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("Shutdown did not finish cleanly: {}", e.toString());
            } finally {
                stopped.countDown();
            }
        }, "modelmarket-shutdown"));
        stopped.await();
    }
}
