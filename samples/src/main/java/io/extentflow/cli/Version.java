package io.extentflow.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code extentflow --version}: the version in the jar's manifest, and the JVM it runs on. */
final class Version implements IVersionProvider {

    @Override
    public String[] getVersion() {
        String v = Extentflow.class.getPackage().getImplementationVersion();
        return new String[] {
                "extentflow " + (v == null ? "(development build)" : v),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
}
