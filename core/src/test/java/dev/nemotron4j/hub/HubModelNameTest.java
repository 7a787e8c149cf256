package dev.nemotron4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HubModelNameTest {
    @Test
    void parsesOwnerNameAndRevision() {
        assertEquals(new ModelName("nvidia", "Nemotron-Mini-4B-Instruct", "main"),
                ModelName.parse("nvidia/Nemotron-Mini-4B-Instruct"));
        assertEquals(new ModelName("nvidia", "Mistral-NeMo-Minitron-8B-Instruct", "v1.0"),
                ModelName.parse("nvidia/Mistral-NeMo-Minitron-8B-Instruct@v1.0"));
        assertEquals("refs/pr/3", ModelName.parse("a/b@refs/pr/3").revision());
        assertEquals("nvidia/x@dev", ModelName.parse("nvidia/x@dev").toString());
        assertEquals("nvidia/x", ModelName.parse("nvidia/x@main").toString());
        assertEquals("nvidia/x", ModelName.parse("nvidia/x").repoId());
    }

    @Test
    void malformedNamesSayWhatIsExpected() {
        for (String bad : new String[] {"nemotron", "a/b/c", "/abs/path", "a/b@", "a/b@../../x", "a b/c", "-a/b",
                "a--b/c", "a/b:Q4_0", "a/b@x y"}) {
            HubException e = assertThrows(HubException.class, () -> ModelName.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("'" + bad + "' is not a Hugging Face model name: expected owner/name"),
                    e.getMessage());
        }
    }

    @Test
    void looksLikeNameLeavesPathsAlone() {
        assertTrue(ModelName.looksLikeName("nvidia/Nemotron-Mini-4B-Instruct"));
        assertTrue(ModelName.looksLikeName("bartowski/Nemotron-Mini-4B-Instruct-GGUF@main"));
        assertFalse(ModelName.looksLikeName("src/main"), "an existing relative directory");
        assertFalse(ModelName.looksLikeName("./dir/x"));
        assertFalse(ModelName.looksLikeName("/models/x"));
        assertFalse(ModelName.looksLikeName("models/x.gguf"));
        assertFalse(ModelName.looksLikeName("model.gguf"));
        assertFalse(ModelName.looksLikeName("a/b/c"));
        assertFalse(ModelName.looksLikeName(null));
    }
}
