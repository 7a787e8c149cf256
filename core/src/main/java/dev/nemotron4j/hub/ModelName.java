package dev.nemotron4j.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model on the Hugging Face Hub, written {@code owner/name} or {@code owner/name@revision}; the revision is a branch,
 * tag or commit hash and defaults to {@code main}.
 */
public record ModelName(String owner, String name, String revision) {
    public static final String DEFAULT_REVISION = "main";

    private static final Pattern FORM = Pattern.compile("([^/@\\s]+)/([^/@\\s]+)(?:@(\\S+))?");
    // The Hub's rule for owner and repository names.
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    // A name ending like a model file is almost surely a mistyped local path, not a repository.
    private static final Pattern FILE_SUFFIX = Pattern.compile(".*\\.(gguf|safetensors|bin|json|nemo)$");

    public ModelName {
        if (!valid(owner, name, revision)) {
            throw malformed(owner + "/" + name + "@" + revision);
        }
    }

    public ModelName(String owner, String name) {
        this(owner, name, DEFAULT_REVISION);
    }

    /** Parses {@code owner/name[@revision]}. */
    public static ModelName parse(String text) {
        Matcher m = text == null ? null : FORM.matcher(text.strip());
        String revision = m != null && m.matches() && m.group(3) != null ? m.group(3) : DEFAULT_REVISION;
        if (m == null || !m.matches() || !valid(m.group(1), m.group(2), revision)) {
            throw malformed(text);
        }
        return new ModelName(m.group(1), m.group(2), revision);
    }

    /**
     * True when {@code text} is written like a model name and is not an existing local file or directory, so a
     * {@code --model} argument such as {@code ./dir/x} or {@code models/x.gguf} stays a path.
     */
    public static boolean looksLikeName(String text) {
        if (text == null) {
            return false;
        }
        Matcher m = FORM.matcher(text);
        if (!m.matches() || !valid(m.group(1), m.group(2), m.group(3) == null ? DEFAULT_REVISION : m.group(3))
                || FILE_SUFFIX.matcher(m.group(2).toLowerCase(Locale.ROOT)).matches()) {
            return false;
        }
        try {
            return !Files.exists(Path.of(text));
        } catch (InvalidPathException e) {
            return true;
        }
    }

    /** {@code owner/name}, the repository id. */
    public String repoId() {
        return owner + "/" + name;
    }

    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repoId() : repoId() + "@" + revision;
    }

    private static boolean valid(String owner, String name, String revision) {
        return validPart(owner) && validPart(name) && validRevision(revision);
    }

    private static boolean validPart(String part) {
        return part != null && PART.matcher(part).matches() && !part.contains("--") && !part.contains("..")
                && !part.endsWith(".");
    }

    // Revisions may hold '/' (refs/pr/1) and become paths under refs/, so they must not climb out of it.
    private static boolean validRevision(String revision) {
        return revision != null && !revision.isEmpty() && !revision.contains("..") && !revision.contains("\\")
                && !revision.startsWith("/") && !revision.endsWith("/") && revision.chars().noneMatch(Character::isWhitespace);
    }

    private static HubException malformed(String text) {
        return new HubException("'" + text + "' is not a Hugging Face model name: expected owner/name or "
                + "owner/name@revision, e.g. nvidia/Nemotron-Mini-4B-Instruct");
    }
}
