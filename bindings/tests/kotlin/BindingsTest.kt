// The Kotlin side of the bindings, on the JVM: the generated Kotlin, JNA and
// the real library, as an Android app uses them (less Android itself). Also
// compiles and exercises the Android module's portable classes
// (UrlConnectionTransport, InterviewModel). Run by scripts/test-bindings.sh.

import com.sun.net.httpserver.HttpServer
import java.io.File
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.nio.file.Files
import kotlin.system.exitProcess
import org.enumera.android.InterviewModel
import org.enumera.android.UrlConnectionTransport
import org.enumera.ffi.CentralTrust
import org.enumera.ffi.DeviceStore
import org.enumera.ffi.EnumeraException
import org.enumera.ffi.HttpRequest
import org.enumera.ffi.HttpResponse
import org.enumera.ffi.HttpTransport
import org.enumera.ffi.Interview
import org.enumera.ffi.IssueKind
import org.enumera.ffi.ResponseState
import org.enumera.ffi.ReturnStatus
import org.enumera.ffi.ReviewComment
import org.enumera.ffi.Screen
import org.enumera.ffi.SyncClient

val repo = File(System.getProperty("enumera.repo") ?: ".").absoluteFile
val instruments = File(repo, "instruments/p2p-sanitation")
val enumeraBin = File(System.getenv("ENUMERA_BIN") ?: File(repo, "target/debug/enumera").path)
val forms = File(repo, "build/bindings/forms")

class Failure(message: String) : Exception(message)

fun check(condition: Boolean, what: () -> String) {
    if (!condition) throw Failure(what())
}

fun <T> eq(actual: T, expected: T, what: String = "") {
    if (actual != expected) throw Failure("$what: expected <$expected>, got <$actual>")
}

inline fun <reified E : Throwable> throws(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw Failure("expected ${E::class.simpleName}, got $e")
    }
    throw Failure("expected ${E::class.simpleName}, nothing was thrown")
}

fun device(): DeviceStore {
    val dir = Files.createTempDirectory("enumera-kt").toFile()
    val store = DeviceStore.open(File(dir, "device.db").path)
    store.initDevice("tablet 7", "enum-7")
    return store
}

/** The study's form `name` as instrument JSON, converted once by the CLI as
 * central does when it publishes (the phones' library reads no workbooks). */
fun form(name: String): File {
    val out = File(forms, "$name.json")
    val xlsx = File(instruments, "$name.xlsx")
    if (!out.exists() || out.lastModified() < xlsx.lastModified()) {
        forms.mkdirs()
        enumera("form", "convert", xlsx.path, "-o", out.path)
    }
    return out
}

fun followup(): Pair<DeviceStore, Interview> {
    val store = device()
    store.installFormFile(form("practice_followup").path)
    return store to store.startInterview("p2p_practice_followup", null, null, false)
}

// -- the study's scripted interviews (instruments/p2p-sanitation/steps) ----

/** Just enough JSON for the step files: objects, arrays, strings, literals. */
class Json(private val s: String) {
    private var i = 0
    fun parse(): Any? {
        ws()
        return when (s[i]) {
            '{' -> {
                i++; val m = LinkedHashMap<String, Any?>(); ws()
                if (s[i] == '}') { i++; return m }
                while (true) {
                    ws(); val k = parse() as String; ws(); i++ // ':'
                    m[k] = parse(); ws()
                    if (s[i++] == '}') return m
                }
                @Suppress("UNREACHABLE_CODE") m
            }
            '[' -> {
                i++; val l = ArrayList<Any?>(); ws()
                if (s[i] == ']') { i++; return l }
                while (true) {
                    l.add(parse()); ws()
                    if (s[i++] == ']') return l
                }
                @Suppress("UNREACHABLE_CODE") l
            }
            '"' -> {
                val b = StringBuilder(); i++
                while (s[i] != '"') {
                    if (s[i] == '\\') {
                        i++
                        when (s[i]) {
                            'n' -> b.append('\n'); 't' -> b.append('\t')
                            'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                            else -> b.append(s[i])
                        }
                    } else b.append(s[i])
                    i++
                }
                i++; b.toString()
            }
            else -> {
                val start = i
                while (i < s.length && s[i] !in ",]} \n\r\t") i++
                when (val word = s.substring(start, i)) {
                    "true" -> true; "false" -> false; "null" -> null; else -> word
                }
            }
        }
    }
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
}

@Suppress("UNCHECKED_CAST")
fun steps(name: String): Pair<List<Map<String, Any?>>, Map<String, Any?>> {
    val dir = File(instruments, "steps")
    val script = Json(File(dir, "$name.json").readText()).parse() as List<Map<String, Any?>>
    val expect = Json(File(dir, "$name.expect.json").readText()).parse() as Map<String, Any?>
    return script to expect
}

fun replay(interview: Interview, script: List<Map<String, Any?>>) {
    for (step in script) {
        when {
            "set_language" in step -> interview.setLanguage(step["set_language"] as String)
            "set" in step -> {
                val v = step["value"]
                interview.answer(step["set"] as String, if (v is List<*>) v.joinToString(" ") else v as String)
            }
            "add_repeat" in step -> interview.addRepeat(step["add_repeat"] as String)
            "remove_repeat" in step -> interview.removeRepeat(step["remove_repeat"] as String)
            else -> throw Failure("unknown step $step")
        }
    }
}

// -- central over HTTP, for the transport tests ------------------------------

class Central(val handler: (method: String, path: String, auth: String?, body: ByteArray) -> Pair<Int, ByteArray>) : AutoCloseable {
    private val server = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
    val url: String

    init {
        server.createContext("/") { ex ->
            val body = ex.requestBody.readBytes()
            val (status, answer) = handler(ex.requestMethod, ex.requestURI.toString(), ex.requestHeaders.getFirst("Authorization"), body)
            ex.sendResponseHeaders(status, if (answer.isEmpty()) -1 else answer.size.toLong())
            if (answer.isNotEmpty()) ex.responseBody.use { it.write(answer) }
            ex.close()
        }
        server.start()
        url = "http://127.0.0.1:${server.address.port}"
    }

    override fun close() = server.stop(0)
}

/** `enumera central serve` on a free port, with the follow-up form and a
 * roster published. */
class RealCentral : AutoCloseable {
    val dir: File = Files.createTempDirectory("enumera-central").toFile()
    val db = File(dir, "central.db").path
    private val server: Process
    val url: String
    val key: String

    init {
        check(enumeraBin.exists()) { "$enumeraBin not built" }
        key = enumera("central", "--db", db, "init").trim()
        enumera("central", "--db", db, "publish", File(instruments, "practice_followup.xlsx").path)
        val roster = File(dir, "lgas.json")
        roster.writeText("""{"participants": [{"id": "MZ-0042"}, {"id": "BD-0113"}]}""")
        enumera("central", "--db", db, "roster", "publish", roster.path)
        server = ProcessBuilder(enumeraBin.path, "central", "--db", db, "serve", "--listen", "127.0.0.1:0").start()
        val line = server.errorStream.bufferedReader().readLine() ?: ""
        check("listening on http://" in line) { "central serve said: $line" }
        url = line.trim().substringAfterLast(' ')
    }

    fun token(store: DeviceStore): String =
        enumera("central", "--db", db, "token", "create", "--device", store.device().deviceId.toString()).trim()

    fun responses(): Int =
        Regex("\"responses\":\\s*(\\d+)").find(enumera("central", "--db", db, "status", "--json"))!!.groupValues[1].toInt()

    override fun close() {
        server.destroy()
        server.waitFor()
    }
}

fun enumera(vararg args: String): String {
    val p = ProcessBuilder(listOf(enumeraBin.path) + args).redirectErrorStream(false).start()
    val out = p.inputStream.bufferedReader().readText()
    val err = p.errorStream.bufferedReader().readText()
    check(p.waitFor() == 0) { "enumera ${args.joinToString(" ")}: $err" }
    return out
}

// -- the tests ----------------------------------------------------------------

val tests = linkedMapOf<String, () -> Unit>(
    "a scripted round-3 interview finalizes and is listed" to {
        val (store, interview) = followup()
        val (script, expect) = steps("practice_followup.quelimane_round3")
        replay(interview, script)
        @Suppress("UNCHECKED_CAST")
        for ((ref, value) in expect["values"] as Map<String, String>) {
            eq(interview.question(ref).value, value, ref)
        }
        eq(interview.blockers(), emptyList(), "blockers")
        val entry = interview.finalize()
        eq(entry.seq, 1UL, "seq")
        eq(store.listResponses().map { it.state }, listOf(ResponseState.FINALIZED), "states")
        throws<EnumeraException.NotEditable> { interview.answer("/data/consent", "no") }
    },
    "a broken constraint shows the form's message and blocks finalizing" to {
        val (_, interview) = followup()
        val q = interview.answer("/data/participant_id", "Maria Silva")
        eq(q.issue?.kind, IssueKind.CONSTRAINT, "issue kind")
        check(!q.issue?.text.isNullOrBlank()) { "no constraint message" }
        val blocked = throws<EnumeraException.Blocked> { interview.finalize() }
        check(blocked.issues.any { it.reference == "/data/participant_id" && it.kind == IssueKind.CONSTRAINT }) {
            "blockers: ${blocked.issues}"
        }
        eq(interview.answer("/data/participant_id", "MZ-0042").issue, null, "fixed")
    },
    "repeats are added and removed" to {
        val (_, interview) = followup()
        interview.answer("/data/consent", "yes")
        interview.answer("/data/interview/practice/any_changes", "yes")
        val changes = "/data/interview/practice/changes"
        eq(interview.addRepeat(changes), "$changes[2]", "added")
        interview.answer("$changes[2]/change_type", "budget")
        interview.addRepeat(changes)
        interview.removeRepeat("$changes[1]")
        eq(interview.question("$changes[1]/change_type").value, "budget", "moved up")
        val add = interview.screens().filterIsInstance<Screen.AddRepeat>().single()
        eq(add.count, 2U, "count")
    },
    "wrong answers come back typed, without the value" to {
        val (_, interview) = followup()
        val e = throws<EnumeraException.InvalidAnswer> { interview.answer("/data/round", "Maria Silva") }
        eq(e.reference, "/data/round", "reference")
        check("Maria" !in (e.message ?: "") && "Maria" !in e.reason) { "value leaked: ${e.message}" }
        throws<EnumeraException.UnknownReference> { interview.answer("/data/nope", "1") }
        throws<EnumeraException.NotFound> { interview.setLanguage("Klingon") }
    },
    "a draft resumes where it was left" to {
        val (store, interview) = followup()
        interview.answer("/data/consent", "yes")
        val id = interview.instanceId()
        interview.close()
        eq(store.resumeInterview(id).question("/data/consent").value, "yes", "resumed")
    },
    "a new tablet syncs with central serve through UrlConnectionTransport" to {
        RealCentral().use { central ->
            val store = device()
            val sync = SyncClient(store, UrlConnectionTransport(central.url), central.token(store))
            val first = sync.sync()
            eq(first.uploaded, 0UL, "nothing to upload yet")
            eq(first.formsInstalled.map { it.formId }, listOf("p2p_practice_followup"), "forms")
            eq(first.rosters.single().summary.added, 2UL, "roster")
            val interview = store.startInterview("p2p_practice_followup", null, null, false)
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            val report = sync.sync()
            eq(report.uploaded, 1UL, "uploaded")
            eq(report.receipt?.marked, listOf(1UL), "marked")
            eq(report.formsPresent, 1UL, "forms present")
            eq(store.listResponses().single().state, ResponseState.SENT, "state")
            eq(central.responses(), 1, "at central")
            eq(sync.upload().uploaded, 0UL, "nothing left")
            eq(central.responses(), 1, "still once at central")
        }
    },
    "a pinned central key refuses another central's receipt (issue 15)" to {
        RealCentral().use { central ->
            val (store, interview) = followup()
            eq(store.centralTrust(), null, "nothing trusted yet")
            eq(store.trustCentral(central.key).reopened, emptyList(), "nothing reopened")
            eq(store.centralTrust(), CentralTrust(central.key, true), "pinned")
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            val bundle = File(central.dir, "carried.bundle")
            store.exportBundle(bundle.path, true)
            val rogue = File(central.dir, "rogue.db").path
            val receipts = File(central.dir, "receipts")
            enumera("central", "--db", rogue, "init")
            enumera("central", "--db", rogue, "ingest", bundle.path, "--receipts", receipts.path)
            val receipt = File(receipts, "${store.device().deviceId}.receipt").readBytes()
            throws<EnumeraException.BadReceipt> { store.applyReceipt(receipt) }
            eq(store.outbox(true).size, 1, "still unsent")
            val report = SyncClient(store, UrlConnectionTransport(central.url), central.token(store)).upload()
            eq(report.receipt?.marked, listOf(1UL), "marked by the pinned central")
            throws<EnumeraException.BadReceipt> { store.trustCentral("zz") }
        }
    },
    "a returned response comes down with its comments and is corrected (issue 17)" to {
        RealCentral().use { central ->
            val (store, interview) = followup()
            val sync = SyncClient(store, UrlConnectionTransport(central.url), central.token(store))
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            eq(sync.sync().uploaded, 1UL, "sent")
            val id = interview.instanceId()
            val ana = enumera("central", "--db", central.db, "token", "create", "--role", "supervisor",
                "--name", "Ana", "--device", store.device().deviceId.toString()).trim()
            enumera("central", "--db", central.db, "review", "reject", id, "--token", ana,
                "--at", "/data/consent=consent was not recorded on paper")
            eq(sync.sync().returns?.new, listOf(id), "returned")
            val returned = store.returnedResponses().single()
            eq(returned.status, ReturnStatus.RETURNED, "status")
            eq(returned.reviewer, "Ana", "reviewer")
            eq(returned.comments, listOf(ReviewComment("/data/consent", "consent was not recorded on paper")), "comments")
            throws<EnumeraException.BadReturn> { store.applyReturns("{}".toByteArray()) }
            val correction = store.reopenReturned(id)
            eq(store.returnCorrectedBy(correction.instanceId())?.instanceId, id, "corrects")
            eq(correction.question("/data/consent").value, "yes", "answers carried over")
            correction.finalize()
            eq(store.returnedResponses().single().status, ReturnStatus.CORRECTED, "corrected")
            eq(sync.sync().uploaded, 1UL, "correction sent")
        }
    },
    "a wrong token is Refused and nothing is marked sent" to {
        RealCentral().use { central ->
            val (store, interview) = followup()
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            val e = throws<EnumeraException.Refused> { SyncClient(store, UrlConnectionTransport(central.url), "wrong").sync() }
            eq(e.status, 401.toUShort(), "status")
            eq(store.listResponses().single().state, ResponseState.FINALIZED, "state")
            eq(central.responses(), 0, "at central")
        }
    },
    "an unreachable server is a Network error" to {
        val port = ServerSocket(0).use { it.localPort } // closed again: nothing listens
        val sync = SyncClient(device(), UrlConnectionTransport("http://127.0.0.1:$port"), "t")
        val e = throws<EnumeraException.Network> { sync.fetchUpdates() }
        check("Connect" in e.detail) { e.detail }
    },
    "exceptions thrown by a Kotlin transport come back typed" to {
        val offline = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse = throw EnumeraException.Network("airplane mode")
        }
        eq(throws<EnumeraException.Network> { SyncClient(device(), offline, "t").fetchUpdates() }.detail, "airplane mode", "detail")
        val broken = object : HttpTransport {
            override fun send(request: HttpRequest): HttpResponse = throw IllegalStateException("socket closed")
        }
        val e = throws<EnumeraException.Network> { SyncClient(device(), broken, "t").fetchUpdates() }
        check("socket closed" in e.detail) { e.detail }
    },
    "a server error leaves responses unsent" to {
        Central { _, _, _, _ -> 500 to "oops".toByteArray() }.use { central ->
            val (store, interview) = followup()
            replay(interview, steps("practice_followup.quelimane_round3").first)
            interview.finalize()
            val e = throws<EnumeraException.Network> { SyncClient(store, UrlConnectionTransport(central.url), "t").sync() }
            check("500" in e.detail && "oops" in e.detail) { e.detail }
            eq(store.listResponses().single().state, ResponseState.FINALIZED, "state")
        }
    },
    "InterviewModel moves, reports refused answers and jumps to blockers" to {
        val (_, interview) = followup()
        val seen = mutableListOf<Int>()
        val model = InterviewModel(interview) { seen.add(it.index) }
        eq(model.state.index, 0, "start")
        model.next(); model.next(); model.back()
        eq(model.state.index, 1, "after moves")
        model.answer("/data/round", "nonsense")
        check(model.state.error?.contains("not one of the choices") == true) { "error: ${model.state.error}" }
        model.answer("/data/consent", "yes")
        eq(model.state.error, null, "error cleared")
        model.finalize()
        check(model.state.blockers.isNotEmpty() && !model.state.finalized) { "not blocked" }
        val shown = model.state.screen
        val first = model.state.blockers.first().reference
        check(shown is Screen.Question && shown.question.reference == first) { "shows $shown, first blocker $first" }
        check(seen.size >= 6) { "listener saw $seen" }
    },
)

fun main() {
    tests.putAll(assignmentsTests)
    tests.putAll(mediaTests)
    tests.putAll(formMediaTests)
    var passed = 0
    var failed = 0
    failed += runAuditTests()
    for ((name, test) in tests) {
        try {
            test()
            passed++
            println("PASS $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
        }
    }
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
