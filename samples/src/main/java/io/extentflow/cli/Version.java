package io.extentflow.cli;

import java.util.List;

/** {@code extentflow --version}: the version in the jar's manifest, and the JVM it runs on. */
final class Version {

    private Version() {
    }

    /** The lines {@code --version} prints. */
    static List<String> lines() {
        String v = Extentflow.class.getPackage().getImplementationVersion();
        return List.of("extentflow " + (v == null ? "(development build)" : v),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
    }
}
