package dev.nemotron4j.hub;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Brings one repository file into a snapshot: asks the Hub for the file's ETag, downloads it to
 * {@code blobs/<etag>.incomplete} (resuming what an earlier attempt left), checks size and sha256, renames it to
 * {@code blobs/<etag>} and links it from {@code snapshots/<commit>/<file>}.
 */
final class BlobFetcher {
    // A dropped connection is retried at once as long as each attempt gets further than the last.
    private static final int MAX_ATTEMPTS = 5;
    private static final int CHUNK = 256 * 1024;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");

    private final HubHttp http;
    private final HubCache cache;
    private final ModelName model;
    private final Consumer<DownloadProgress> progress;

    /** What the Hub says about a file before it is downloaded. */
    private record Remote(String etag, long size, URI location) {
    }

    /** The connection dropped while the body was streaming; what arrived so far stays on disk. */
    private static final class BrokenStream extends Exception {
        BrokenStream(IOException cause) {
            super(cause);
        }
    }

    BlobFetcher(HubHttp http, HubCache cache, ModelName model, Consumer<DownloadProgress> progress) {
        this.http = http;
        this.cache = cache;
        this.model = model;
        this.progress = progress;
    }

    void fetch(String commit, String file) {
        Path target = cache.snapshotFile(commit, file);
        if (Files.isRegularFile(target)) {
            return;
        }
        Remote remote = describe(commit, file);
        Path blob = cache.blob(remote.etag());
        if (!Files.isRegularFile(blob)) {
            download(file, remote, blob);
        }
        cache.link(target, blob);
    }

    private Remote describe(String commit, String file) {
        URI uri = http.url(resolvePath(commit, file));
        HttpResponse<Void> response = http.head(uri, model);
        http.check(response, model, file);
        HttpHeaders headers = response.headers();
        // LFS files answer with a redirect to storage; X-Linked-* then describe the file rather than the redirect.
        String etag = headers.firstValue("X-Linked-Etag").or(() -> headers.firstValue("ETag"))
                .map(BlobFetcher::normalizeEtag).filter(e -> !e.isEmpty() && !e.contains("/") && !e.startsWith("."))
                .orElseThrow(() -> new HubException(http.endpoint() + " sent no usable ETag for " + model + " file " + file
                        + ": check HF_ENDPOINT points to a Hugging Face Hub"));
        OptionalLong size = headers.firstValueAsLong("X-Linked-Size");
        if (size.isEmpty()) {
            size = headers.firstValueAsLong("Content-Length");
        }
        URI location = headers.firstValue("Location").filter(l -> response.statusCode() / 100 == 3)
                .map(uri::resolve).orElse(uri);
        return new Remote(etag, size.orElse(-1), location);
    }

    private void download(String file, Remote remote, Path blob) {
        Path partial = cache.incomplete(remote.etag());
        cache.createDirectories(partial.getParent());
        Sha256 digest = SHA256.matcher(remote.etag()).matches() ? new Sha256() : null;
        for (int attempt = 1; ; attempt++) {
            long before = sizeOf(partial);
            try {
                transfer(file, remote, partial, digest);
                break;
            } catch (BrokenStream e) {
                long after = sizeOf(partial);
                if (after <= before || attempt == MAX_ATTEMPTS) {
                    throw new HubException("download of " + model + " file " + file + " broke off at " + after + " of "
                            + remote.size() + " bytes: " + HubHttp.describe(e.getCause()) + " — run again to resume", e);
                }
            }
        }
        verify(file, remote, partial, digest);
        cache.publish(partial, blob);
    }

    private void transfer(String file, Remote remote, Path partial, Sha256 digest) throws BrokenStream {
        long have = sizeOf(partial);
        if (remote.size() >= 0 && have >= remote.size()) {
            return;
        }
        Map<String, String> headers = have > 0
                ? Map.of("Range", "bytes=" + have + "-", "Accept-Encoding", "identity")
                : Map.of("Accept-Encoding", "identity");
        HttpResponse<InputStream> response = http.get(remote.location(), headers,
                HttpResponse.BodyHandlers.ofInputStream(), model);
        try (InputStream in = response.body()) {
            int status = response.statusCode();
            if (status == 206 && rangeStart(response) != have || status == 416) {
                deleteQuietly(partial);
                throw new HubException("the server could not resume " + model + " file " + file
                        + "; the partial download was removed — run again to download it afresh");
            }
            http.check(response, model, file);
            if (status != 200 && status != 206) {
                throw new HubException(http.endpoint() + " answered HTTP " + status + " for " + model + " file " + file
                        + ": try again later");
            }
            boolean append = status == 206;
            if (!append) {
                have = 0; // the server ignored the Range header and sends the whole file
            }
            stream(file, remote, partial, in, append, have, digest);
        } catch (IOException e) {
            throw cache.writeFailure(partial, e);
        }
    }

    private void stream(String file, Remote remote, Path partial, InputStream in, boolean append, long have,
            Sha256 digest) throws IOException, BrokenStream {
        try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            if (digest != null) {
                digest.catchUp(partial, have);
            }
            progress.accept(new DownloadProgress(file, have, remote.size()));
            byte[] buffer = new byte[CHUNK];
            long done = have;
            for (int n; (n = read(in, buffer)) >= 0; ) {
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                while (chunk.hasRemaining()) {
                    out.write(chunk);
                }
                if (digest != null) {
                    digest.update(buffer, n);
                }
                done += n;
                if (done != remote.size()) { // the completing report comes once the file is verified
                    progress.accept(new DownloadProgress(file, done, remote.size()));
                }
            }
            if (remote.size() >= 0 && done < remote.size()) {
                throw new BrokenStream(new EOFException("connection closed early"));
            }
        }
    }

    private void verify(String file, Remote remote, Path partial, Sha256 digest) {
        long size = sizeOf(partial);
        if (remote.size() >= 0 && size != remote.size()) {
            deleteQuietly(partial);
            throw new HubException("download of " + model + " file " + file + " has " + size + " bytes, expected "
                    + remote.size() + " — run again to download it afresh");
        }
        if (digest != null) {
            try {
                digest.catchUp(partial, size); // a partial file may already have been whole, with nothing streamed
            } catch (IOException e) {
                throw cache.writeFailure(partial, e);
            }
            String actual = digest.hex();
            if (!actual.equals(remote.etag())) {
                deleteQuietly(partial);
                throw new HubException("download of " + model + " file " + file + " is corrupt (sha256 " + actual
                        + ", expected " + remote.etag() + ") — run again to download it afresh");
            }
        }
        progress.accept(new DownloadProgress(file, size, size));
    }

    private String[] resolvePath(String commit, String file) {
        String[] parts = file.split("/");
        String[] segments = new String[4 + parts.length];
        segments[0] = model.owner();
        segments[1] = model.name();
        segments[2] = "resolve";
        segments[3] = commit;
        System.arraycopy(parts, 0, segments, 4, parts.length);
        return segments;
    }

    private static int read(InputStream in, byte[] buffer) throws BrokenStream {
        try {
            return in.read(buffer);
        } catch (IOException e) {
            throw new BrokenStream(e);
        }
    }

    private static long rangeStart(HttpResponse<?> response) {
        Matcher m = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    // ETags arrive as "abc" or W/"abc"; huggingface_hub names blobs by the bare value.
    private static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        return e.replace("\"", "");
    }

    private static long sizeOf(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A leftover partial file is retried, and re-verified, on the next run.
        }
    }

    /** A running sha256 over the partial file, kept across resumed attempts. */
    private static final class Sha256 {
        private MessageDigest digest = newDigest();
        private long hashed;

        /** Hashes what is on disk but not yet hashed, e.g. bytes left by an earlier run. */
        void catchUp(Path partial, long have) throws IOException {
            if (hashed > have) {
                digest = newDigest();
                hashed = 0;
            }
            if (hashed == have) {
                return;
            }
            try (FileChannel in = FileChannel.open(partial, StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
                in.position(hashed);
                while (hashed < have) {
                    buffer.clear().limit((int) Math.min(CHUNK, have - hashed));
                    int n = in.read(buffer);
                    if (n < 0) {
                        throw new EOFException(partial + " shrank while resuming");
                    }
                    digest.update(buffer.flip());
                    hashed += n;
                }
            }
        }

        void update(byte[] bytes, int n) {
            digest.update(bytes, 0, n);
            hashed += n;
        }

        String hex() {
            return HexFormat.of().formatHex(digest.digest());
        }

        private static MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK always provides SHA-256", e);
            }
        }
    }
}
