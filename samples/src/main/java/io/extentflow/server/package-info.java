/**
 * The extentflow image daemon: an ovirt-imageio compatible HTTP server. The data API
 * ({@code /images/<ticket>}) serves tickets backed by any address {@code Endpoints} opens; the
 * control API ({@code /tickets/<id>}) listens on a Unix socket or a loopback port. See
 * {@link io.extentflow.server.ImageServer}.
 */
package io.extentflow.server;
