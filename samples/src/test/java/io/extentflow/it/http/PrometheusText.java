package io.extentflow.it.http;

import java.util.HashMap;
import java.util.Map;

/** Reads values out of a Prometheus text exposition, for asserting on a scrape. */
final class PrometheusText {

    private final String text;

    PrometheusText(String text) {
        this.text = text;
    }

    /**
     * The sum of the samples of {@code metric} whose labels include {@code labels} (name, value
     * pairs); 0 when there is none.
     */
    double value(String metric, String... labels) {
        double sum = 0;
        for (String line : text.lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            String body = brace < 0 ? "" : line.substring(brace + 1, line.lastIndexOf('}'));
            if (name.equals(metric) && hasLabels(body, labels)) {
                sum += Double.parseDouble(line.substring(space + 1));
            }
        }
        return sum;
    }

    /** True when the metric has at least one sample. */
    boolean has(String metric) {
        return text.lines().anyMatch(l -> l.startsWith(metric + "{") || l.startsWith(metric + " "));
    }

    private static boolean hasLabels(String body, String... labels) {
        Map<String, String> found = new HashMap<>();
        for (String pair : body.split(",(?=[a-zA-Z_]+=\")")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                found.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
            }
        }
        for (int i = 0; i < labels.length; i += 2) {
            if (!labels[i + 1].equals(found.get(labels[i]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
