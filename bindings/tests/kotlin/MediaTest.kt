// Media end to end over HTTP from Kotlin (issue 18, items 4 and 6): an app
// attaches a photo (a JPEG made by the test), an audio recording and a
// signature to a plain form and a photo to a sealed form, syncs with a real
// `enumera central serve` through UrlConnectionTransport, and the
// researcher's export holds every file byte-identical, the sealed one only
// with the identity. Run from BindingsTest.kt's main().

import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import org.enumera.android.UrlConnectionTransport
import org.enumera.ffi.HttpRequest
import org.enumera.ffi.HttpResponse
import org.enumera.ffi.HttpTransport
import org.enumera.ffi.RecordingRequest
import org.enumera.ffi.SyncClient

private const val RESEARCHER_KEY = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn"

private fun mediaForm(formId: String, settings: String, questions: List<Triple<String, String, String>>): String {
    val children = questions.mapIndexed { i, (name, type, appearance) ->
        val extra = if (appearance.isEmpty()) "" else """, "appearance": "$appearance""""
        """{"name": "$name", "kind": {"kind": "question", "type": "$type"}, "row": ${i + 2}, "label": {"": "$name"}$extra}"""
    }
    return """{"model_version": 1, "form_id": "$formId", "version": "1", "title": "$formId",
        "root_name": "data", "settings": $settings, "children": [${children.joinToString(", ")}]}"""
}

/** A JPEG-shaped file made by the test: SOI/APP0 markers, bytes of every value, EOI. */
private fun jpeg(seed: Int): ByteArray =
    byteArrayOf(0xff.toByte(), 0xd8.toByte(), 0xff.toByte(), 0xe0.toByte()) +
        ByteArray(60_000) { ((it * 31 + seed) % 256).toByte() } +
        byteArrayOf(0xff.toByte(), 0xd9.toByte())

private fun sha256(bytes: ByteArray): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

/** The single row of an export CSV as column -> value (no quoted commas in these tables). */
private fun csvRow(file: File): Map<String, String> {
    val lines = file.readText().removePrefix("\uFEFF").lines().filter { it.isNotEmpty() }
    eq(lines.size, 2, "${file.name} rows")
    return lines[0].split(',').zip(lines[1].split(',')).toMap()
}

/** `enumera central serve` on a free port with the two media forms. */
private class MediaCentral : AutoCloseable {
    val dir: File = Files.createTempDirectory("enumera-media").toFile()
    val db = File(dir, "central.db").path
    private val server: Process
    val url: String

    init {
        enumera("central", "--db", db, "init")
        val plain = mediaForm("kii_media_kt", "{}", listOf(
            Triple("site", "image", ""), Triple("recording", "audio", ""), Triple("consent", "image", "signature")))
        val sealed = mediaForm("kii_sealed_kt", """{"public_keys": ["$RESEARCHER_KEY"]}""",
            listOf(Triple("document", "image", "")))
        for ((name, json) in listOf("plain" to plain, "sealed" to sealed)) {
            val f = File(dir, "$name.json")
            f.writeText(json)
            enumera("central", "--db", db, "publish", f.path)
        }
        server = ProcessBuilder(enumeraBin.path, "central", "--db", db, "serve", "--listen", "127.0.0.1:0").start()
        val line = server.errorStream.bufferedReader().readLine() ?: ""
        check("listening on http://" in line) { "central serve said: $line" }
        url = line.trim().substringAfterLast(' ')
    }

    override fun close() {
        server.destroy()
        server.waitFor()
    }
}

val mediaTests = linkedMapOf<String, () -> Unit>(
    "background-audio: the form asks for a whole-interview recording, attached like any file" to {
        val dir = Files.createTempDirectory("enumera-bg").toFile()
        val form = File(dir, "bg.json")
        form.writeText("""{"model_version": 1, "form_id": "kii_bg_kt", "version": "1", "title": "bg",
            "root_name": "data", "settings": {}, "children": [
            {"name": "informant", "kind": {"kind": "question", "type": "text"}, "row": 2, "label": {"": "Informant"}},
            {"name": "background_audio", "kind": {"kind": "question", "type": "background_audio"}, "row": 3,
             "parameters": {"quality": "low"}}]}""")
        val store = device()
        store.installFormFile(form.path)
        val interview = store.startInterview("kii_bg_kt", null, null, false)
        val asked = interview.backgroundAudio() ?: error("the form asks for a recording")
        eq(asked, RecordingRequest("/data/background_audio", "low"), "request")
        val audio = "RIFF".toByteArray() + ByteArray(20_000) { (it % 241).toByte() }
        val kept = interview.attachBytes(asked.reference, audio, "recording.m4a")
        eq(kept.sha256, sha256(audio), "recording kept byte for byte")
        check(kept.name.endsWith(".m4a")) { kept.name }
        check(runCatching { interview.answer(asked.reference, "typed.m4a") }.isFailure) { "typed into metadata" }
        interview.finalize()
        dir.deleteRecursively()
    },
    "photo, audio and signature reach the export over HTTP; a sealed photo opens only with the identity" to {
        MediaCentral().use { central ->
            val store = device()
            val token = enumera("central", "--db", central.db, "token", "create", "--device",
                store.device().deviceId.toString()).trim()
            // Notes which requests came with their body as a file (`bodyPath`).
            val streamed = mutableListOf<String>()
            val http = UrlConnectionTransport(central.url)
            val transport = object : HttpTransport {
                override fun send(request: HttpRequest): HttpResponse {
                    request.bodyPath?.let {
                        check(request.body.isEmpty()) { "body is empty when bodyPath is set" }
                        streamed += "${request.method} ${request.path} ${File(it).length()}"
                    }
                    return http.send(request)
                }
            }
            val sync = SyncClient(store, transport, token)
            eq(sync.sync().formsInstalled.map { it.formId }.sorted(), listOf("kii_media_kt", "kii_sealed_kt"), "forms")

            val photo = jpeg(3)
            val audio = "RIFF\u0024\u0000\u0000\u0000WAVEfmt ".toByteArray() + ByteArray(40_000) { (it % 251).toByte() }
            val signature = byteArrayOf(0x89.toByte()) + "PNG\r\n\u001a\n a signature".toByteArray()
            val document = jpeg(11)
            val photoFile = File(central.dir, "site.jpg").also { it.writeBytes(photo) }
            val audioFile = File(central.dir, "interview.m4a").also { it.writeBytes(audio) }

            val plain = store.startInterview("kii_media_kt", null, null, false)
            val site = plain.attachFile("/data/site", photoFile.path)
            val recording = plain.attachFile("/data/recording", audioFile.path)
            val consent = plain.attachBytes("/data/consent", signature, "signature.png")
            eq(plain.question("/data/site").value, site.name, "answer is the file name")
            plain.finalize()
            val sealed = store.startInterview("kii_sealed_kt", null, null, false)
            val doc = sealed.attachBytes("/data/document", document, "document.jpg")
            sealed.finalize()
            val sent = mapOf(site.name to photo, recording.name to audio, consent.name to signature)
            for (a in listOf(site, recording, consent)) eq(a.sha256, sha256(sent.getValue(a.name)), a.name)

            val report = sync.upload()
            eq(report.uploaded, 2UL, "uploaded")
            eq(report.receipt?.marked?.sorted(), listOf(1UL, 2UL), "marked")
            eq(streamed, listOf("POST /v1/bundles ${report.bundleBytes}"), "the bundle went as a file")
            central.close()

            val marker = document.copyOfRange(1000, 1064)
            val held = File(central.db).readBytes()
            check((0..held.size - marker.size).none { i -> marker.indices.all { held[i + it] == marker[it] } }) {
                "central's database holds the sealed photo's bytes"
            }

            val closed = File(central.dir, "closed")
            enumera("central", "--db", central.db, "export", "--out", closed.path)
            eq(File(closed, "media").list()!!.sorted(), sent.keys.sorted(), "media without the identity")
            val why = File(closed, "report.csv").readText()
            check("sealed_not_opened" in why && "attachments" in why) { why }

            val opened = File(central.dir, "opened")
            val identity = File(instruments, "test-keys/researcher.agekey")
            enumera("central", "--db", central.db, "export", "--out", opened.path, "--identity", identity.path)
            val media = File(opened, "media")
            val expected = sent + (doc.name to document)
            eq(media.list()!!.sorted(), expected.keys.sorted(), "media with the identity")
            for ((name, bytes) in expected) eq(sha256(File(media, name).readBytes()), sha256(bytes), name)
            val row = csvRow(File(opened, "kii_media_kt.csv"))
            for ((column, a) in listOf("site" to site, "recording" to recording, "consent" to consent)) {
                eq(row[column], a.name, column)
                check(File(media, row.getValue(column)).isFile) { "$column: ${row[column]} does not resolve" }
            }
            val sealedRow = csvRow(File(opened, "kii_sealed_kt.csv"))
            eq(File(media, sealedRow.getValue("document")).readBytes().contentEquals(document), true, "sealed photo")
        }
    },
)
