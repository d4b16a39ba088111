// Form media from Kotlin (issue 18, item 2): central publishes a form whose
// label names an image and an audio file, from the FORM-media/ folder
// beside it; the app syncs with a real `enumera central serve` through
// UrlConnectionTransport, the question names the files in the current
// language, and the store reads them back byte-identical. Run from
// BindingsTest.kt's main().

import java.io.File
import java.nio.file.Files
import org.enumera.android.UrlConnectionTransport
import org.enumera.ffi.SyncClient

val formMediaTests = linkedMapOf<String, () -> Unit>(
    "label image and audio are published with the form, fetched at sync and read back byte-identical" to {
        val dir = Files.createTempDirectory("enumera-form-media").toFile()
        val form = File(dir, "show_card_kt.json")
        form.writeText("""{"model_version": 1, "form_id": "show_card_kt", "version": "1", "title": "Show card",
            "root_name": "data", "settings": {}, "children": [
            {"name": "facility", "kind": {"kind": "question", "type": "text"}, "row": 2,
             "label": {"": "Which facility is this?"},
             "media": {"image": {"": "card.png"}, "audio": {"": "ask.mp3"}}}]}""")
        val media = File(dir, "show_card_kt-media").also { it.mkdir() }
        val card = byteArrayOf(0x89.toByte()) + "PNG\r\n\u001a\n".toByteArray() + ByteArray(20_000) { (it % 253).toByte() }
        val ask = "ID3".toByteArray() + ByteArray(30_000) { ((it * 7) % 256).toByte() }
        File(media, "card.png").writeBytes(card)
        File(media, "ask.mp3").writeBytes(ask)
        val db = File(dir, "central.db").path
        enumera("central", "--db", db, "init")
        enumera("central", "--db", db, "publish", form.path)
        val server = ProcessBuilder(enumeraBin.path, "central", "--db", db, "serve", "--listen", "127.0.0.1:0").start()
        try {
            val line = server.errorStream.bufferedReader().readLine() ?: ""
            check("listening on http://" in line) { "central serve said: $line" }
            val url = line.trim().substringAfterLast(' ')
            val store = device()
            val token = enumera("central", "--db", db, "token", "create", "--device",
                store.device().deviceId.toString()).trim()
            val report = SyncClient(store, UrlConnectionTransport(url), token).sync()
            eq(report.formsInstalled.map { it.formId }, listOf("show_card_kt"), "forms")
            eq(report.mediaFetched, 2UL, "media fetched")
            eq(report.mediaMissing, emptyList(), "nothing missing")

            val interview = store.startInterview("show_card_kt", null, null, false)
            val q = interview.question("/data/facility")
            eq(q.image, "card.png", "image")
            eq(q.audio, "ask.mp3", "audio")
            eq(q.video, null, "video")
            val hash = interview.formHash()
            check(store.formMedia(hash, "card.png")!!.contentEquals(card)) { "image differs" }
            check(store.formMedia(hash, "ask.mp3")!!.contentEquals(ask)) { "audio differs" }
            val copy = File(dir, "played.mp3")
            eq(store.copyFormMedia(hash, "ask.mp3", copy.path), ask.size.toULong(), "copied size")
            check(copy.readBytes().contentEquals(ask)) { "copied audio differs" }
            check(store.formMediaList(hash).all { it.present }) { "all present" }
        } finally {
            server.destroy()
            server.waitFor()
            dir.deleteRecursively()
        }
    },
)
