package io.extentflow.engine.capability;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The capabilities a source offers, each under the interface a caller asks for: what a source's
 * {@link io.extentflow.engine.ImageSource#capability(Class)} answers from. Immutable.
 *
 * <pre>{@code
 * private final Capabilities capabilities = Capabilities.none().with(HostOffsets.class, this::hostMap);
 *
 * public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
 *     return capabilities.get(type);
 * }
 * }</pre>
 */
public final class Capabilities {

    private static final Capabilities NONE = new Capabilities(Map.of());

    private final Map<Class<? extends SourceCapability>, SourceCapability> views;

    private Capabilities(Map<Class<? extends SourceCapability>, SourceCapability> views) {
        this.views = views;
    }

    /** No capability at all. */
    public static Capabilities none() {
        return NONE;
    }

    /** These capabilities and {@code view}, offered as {@code type} (replacing an earlier one of that type). */
    public <C extends SourceCapability> Capabilities with(Class<C> type, C view) {
        Map<Class<? extends SourceCapability>, SourceCapability> more = new HashMap<>(views);
        more.put(type, type.cast(view));
        return new Capabilities(Map.copyOf(more));
    }

    /** The view offered as exactly {@code type}, or empty. */
    public <C extends SourceCapability> Optional<C> get(Class<C> type) {
        return Optional.ofNullable(type.cast(views.get(type)));
    }
}
