package dev.nemotron4j.chat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ToolCallParserTest {

    @Test
    void oneCallWithLeadingSpace() {
        var p = ToolCallParser.parse(
                "<toolcall> {\"name\": \"attack\", \"arguments\": {\"target\": \"goblin\", \"power\": 7}} </toolcall>");
        assertEquals(1, p.calls().size());
        assertEquals("attack", p.calls().get(0).name());
        assertEquals("{\"target\":\"goblin\",\"power\":7}", p.calls().get(0).arguments());
        assertTrue(p.calls().get(0).id().matches("call_[A-Za-z0-9]{24}"));
        assertNull(p.content());
        assertFalse(p.malformed());
    }

    @Test
    void twoCallsBackToBackAndPrettyPrinted() {
        var p = ToolCallParser.parse("<toolcall> {\"name\": \"open_door\", \"arguments\": {\"door\": \"north\"}} "
                + "</toolcall><toolcall>\n{\n  \"name\": \"say\",\n  \"arguments\": {\"text\": \"Stand back!\"}\n}\n"
                + "</toolcall>");
        assertEquals(List.of("open_door", "say"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals("{\"text\":\"Stand back!\"}", p.calls().get(1).arguments());
        assertTrue(!p.calls().get(0).id().equals(p.calls().get(1).id()));
    }

    @Test
    void textAroundTheCallIsContent() {
        var p = ToolCallParser.parse("Let me check. <toolcall>{\"name\": \"f\", \"arguments\": {}}</toolcall> Done.");
        assertEquals("Let me check.  Done.", p.content());
        assertEquals(1, p.calls().size());
    }

    @Test
    void missingClosingTagAtTheEnd() {
        var p = ToolCallParser.parse("<toolcall> {\"name\": \"f\", \"arguments\": {\"a\": 1}}");
        assertEquals(1, p.calls().size());
        assertEquals("{\"a\":1}", p.calls().get(0).arguments());
    }

    @Test
    void malformedJsonStaysContent() {
        var p = ToolCallParser.parse("<toolcall> {\"name\": \"f\", \"arguments\": {\"a\": </toolcall>");
        assertTrue(p.malformed());
        assertTrue(p.calls().isEmpty());
        assertEquals("<toolcall> {\"name\": \"f\", \"arguments\": {\"a\": </toolcall>", p.content());
        var noName = ToolCallParser.parse("<toolcall>{\"arguments\": {}}</toolcall>");
        assertTrue(noName.malformed());
        var truncated = ToolCallParser.parse("<toolcall> {\"name\": \"f\", \"argu");
        assertTrue(truncated.malformed());
        assertEquals("<toolcall> {\"name\": \"f\", \"argu", truncated.content());
    }

    @Test
    void arrayOfCallsAndStringArguments() {
        var p = ToolCallParser.parse("<toolcall>[{\"name\": \"a\", \"arguments\": \"{\\\"x\\\": 1}\"}, "
                + "{\"name\": \"b\"}]</toolcall>");
        assertEquals(List.of("a", "b"), p.calls().stream().map(ToolCall::name).toList());
        assertEquals("{\"x\": 1}", p.calls().get(0).arguments());
        assertEquals("{}", p.calls().get(1).arguments());
    }

    @Test
    void plainTextWithoutCalls() {
        var p = ToolCallParser.parse("a < b and <tool> is not a call");
        assertEquals("a < b and <tool> is not a call", p.content());
        assertTrue(p.calls().isEmpty());
        assertFalse(p.malformed());
    }

    @Test
    void streamingNeverReleasesAPartialTagAndHandlesSplitTags() {
        String[] pieces = {"Sure", " ", "<", "tool", "call> {\"name\": \"say\",", " \"arguments\": {\"text\": \"hi\"}}",
                " </toolcall", ">", "<", "toolcall>{\"name\": \"b\"}</toolcall>", "\n"};
        var parser = new ToolCallParser.Streaming();
        List<ToolCallParser.Event> events = new ArrayList<>();
        for (String piece : pieces) {
            for (var e : parser.push(piece)) {
                if (e instanceof ToolCallParser.Text t) {
                    assertFalse(t.text().contains("<"), "partial tag released: " + t.text());
                }
                events.add(e);
            }
        }
        events.addAll(parser.finish());
        assertEquals(3, events.size(), events.toString());
        assertEquals(new ToolCallParser.Text("Sure"), events.get(0));
        assertEquals("say", ((ToolCallParser.Call) events.get(1)).call().name());
        assertEquals("b", ((ToolCallParser.Call) events.get(2)).call().name());
        assertEquals(2, parser.callCount());
    }

    @Test
    void streamingReleasesALoneAngleBracketOnceItCannotBeATag() {
        var parser = new ToolCallParser.Streaming();
        assertEquals(List.of(new ToolCallParser.Text("x ")), parser.push("x <"));
        assertEquals(List.of(new ToolCallParser.Text("<3")), parser.push("3"));
        assertEquals(List.of(), parser.finish());
    }
}
