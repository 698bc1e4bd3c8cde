package com.modelmarket.marketplace.support;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The test class runs against one real platform, started before its first test on a fresh database
 * of the shared test server and stopped after its last (see {@link PlatformExtension}). Methods,
 * {@code @BeforeAll} ones included, receive it as a {@link com.modelmarket.marketplace.Platform}
 * or an {@link Api} parameter.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(PlatformExtension.class)
public @interface StartedPlatform {

    /** Configuration overrides in file form, {@code "key=value"}, on top of {@link TestPlatform#baseOverrides}. */
    String[] value() default {};
}
