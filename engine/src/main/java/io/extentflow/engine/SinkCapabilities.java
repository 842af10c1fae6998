package io.extentflow.engine;

/**
 * What a sink offers the copy operator.
 *
 * @param knownZero     the target reads as zeros everywhere before the copy (a new file, a fresh NBD
 *                      memory export); zero extents then need no request at all
 * @param maxWriteSize  the largest single write the sink accepts, in bytes
 * @param maxZeroSize   the largest single zero request, in bytes
 * @param connections   how many requests the sink can usefully serve in parallel
 */
public record SinkCapabilities(boolean knownZero, int maxWriteSize, long maxZeroSize, int connections) {

    public SinkCapabilities {
        if (maxWriteSize <= 0 || maxZeroSize <= 0 || connections <= 0) {
            throw new IllegalArgumentException("capabilities must be positive");
        }
    }

    /** The same capabilities with {@code knownZero} replaced. */
    public SinkCapabilities withKnownZero(boolean value) {
        return new SinkCapabilities(value, maxWriteSize, maxZeroSize, connections);
    }
}
