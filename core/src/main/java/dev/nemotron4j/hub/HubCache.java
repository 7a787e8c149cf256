package dev.nemotron4j.hub;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One model's folder in the huggingface_hub cache: {@code models--owner--name/} with {@code blobs/<etag>} holding file
 * contents, {@code snapshots/<commit>/<file>} linking to them, and {@code refs/<revision>} naming a commit.
 */
final class HubCache {
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path cacheDir;
    private final Path repoDir;

    HubCache(Path cacheDir, ModelName model) {
        this.cacheDir = cacheDir;
        this.repoDir = cacheDir.resolve("models--" + model.owner() + "--" + model.name());
    }

    Path cacheDir() {
        return cacheDir;
    }

    Path snapshot(String commit) {
        return repoDir.resolve("snapshots").resolve(commit);
    }

    Path snapshotFile(String commit, String file) {
        Path snapshot = snapshot(commit);
        Path path = snapshot.resolve(file).normalize();
        if (!path.startsWith(snapshot) || path.equals(snapshot)) {
            throw new HubException("refusing repository file name '" + file + "': it points outside the model folder");
        }
        return path;
    }

    Path blob(String etag) {
        return repoDir.resolve("blobs").resolve(etag);
    }

    Path incomplete(String etag) {
        return repoDir.resolve("blobs").resolve(etag + ".incomplete");
    }

    /** The commit a revision points to in the cache: a commit hash is its own; a branch or tag needs a ref file. */
    Optional<String> commitFor(String revision) {
        if (COMMIT.matcher(revision).matches()) {
            return Optional.of(revision);
        }
        Path ref = repoDir.resolve("refs").resolve(revision);
        try {
            return Files.isRegularFile(ref) ? Optional.of(Files.readString(ref).strip()).filter(c -> !c.isEmpty())
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void writeRef(String revision, String commit) {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = repoDir.resolve("refs").resolve(revision);
        try {
            Files.createDirectories(ref.getParent());
            Files.writeString(ref, commit);
        } catch (IOException e) {
            throw writeFailure(ref, e);
        }
    }

    void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw writeFailure(dir, e);
        }
    }

    /** Moves a finished download into place; a reader never sees a half-written blob. */
    void publish(Path incomplete, Path blob) {
        try {
            try {
                Files.move(incomplete, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(incomplete, blob, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw writeFailure(blob, e);
        }
    }

    /** Points a snapshot file at its blob with a relative symlink, or copies the blob where links are not allowed. */
    void link(Path snapshotFile, Path blob) {
        try {
            Files.createDirectories(snapshotFile.getParent());
            Files.deleteIfExists(snapshotFile);
            try {
                Files.createSymbolicLink(snapshotFile, snapshotFile.getParent().relativize(blob));
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(blob, snapshotFile, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw writeFailure(snapshotFile, e);
        }
    }

    HubException writeFailure(Path path, IOException e) {
        return new HubException("cannot write " + path + ": " + HubHttp.describe(e)
                + " — free some disk space or set HF_HUB_CACHE to a writable directory", e);
    }
}
