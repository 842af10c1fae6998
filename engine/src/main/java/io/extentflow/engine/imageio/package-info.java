/**
 * The oVirt imageio HTTP API as both sides of extentflow speak it: the ticket and {@code OPTIONS}
 * models, the extents JSON, the feature names, and {@link io.extentflow.engine.imageio.ImageioClient},
 * the non-blocking HTTP client used by the HTTP source and sink ({@link
 * io.extentflow.engine.imageio.ImageioClientOptions}), with the endpoint options of imageio addresses
 * ({@link io.extentflow.engine.imageio.HttpOptions}), which the HTTP source and sink both list. The
 * client owns its connections and retries; each part of the API is a small flow class beside it.
 *
 * <p>Our extensions to the reference API, each announced in {@code OPTIONS} so that a client can tell
 * our server from the reference one:
 * <ul>
 *   <li>feature {@value io.extentflow.engine.imageio.Features#EXTENTS_RANGE}: {@code GET
 *       /images/<id>/extents} accepts {@code start=} and {@code length=} (the names proposed in
 *       ovirt-imageio issue #83). {@code length} defaults to the rest of the image and is clipped to
 *       it; the reply covers exactly {@code [start, start + length)}. Without the parameters the reply
 *       covers the whole image, as upstream.</li>
 *   <li>{@code size} in the {@code OPTIONS} reply of a concrete ticket: the bytes readable through it
 *       (ovirt-imageio issue #67), so clients need no whole-image extents request to learn it.</li>
 * </ul>
 */
package io.extentflow.engine.imageio;
