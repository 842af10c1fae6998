package io.extentflow.daemon;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Tells BlockHound about the one read the fleet's database driver makes on its event loop: the
 * SCRAM login's nonce comes from {@code SecureRandom}, whose NativePRNG refills a small buffer from
 * {@code /dev/urandom}. That read never waits (urandom does not block once the kernel's pool is
 * initialised, early at boot), so it is allowed there and nowhere else. The rest of the login
 * (PBKDF2, a few milliseconds of CPU once per connection) is computation, not blocking.
 *
 * <p>Registered as a service, so any application that installs BlockHound picks it up.
 */
public final class FleetBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("com.ongres.scram.common.ScramFunctions", "nonce");
    }
}
