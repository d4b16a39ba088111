package org.enumera.android

import java.io.IOException
import java.net.HttpURLConnection
import java.net.URI
import org.enumera.ffi.EnumeraException
import org.enumera.ffi.HttpRequest
import org.enumera.ffi.HttpResponse
import org.enumera.ffi.HttpTransport

/**
 * An [HttpTransport] on the JDK's own HTTP client: no dependencies, works on
 * Android and on any JVM. [OkHttpTransport] is the better choice in an app
 * that already uses OkHttp (shared connection pool, interceptors).
 *
 * Failures to reach the server are thrown as [EnumeraException.Network], so
 * the Rust side reports them as such; HTTP error statuses are returned.
 */
class UrlConnectionTransport(
    baseUrl: String,
    private val connectTimeoutMillis: Int = 15_000,
    private val readTimeoutMillis: Int = 60_000,
) : HttpTransport {
    private val base = baseUrl.trimEnd('/')

    override fun send(request: HttpRequest): HttpResponse {
        val connection = try {
            URI(base + request.path).toURL().openConnection() as HttpURLConnection
        } catch (e: Exception) {
            throw EnumeraException.Network("bad server address: ${e.message}")
        }
        try {
            connection.requestMethod = request.method
            connection.connectTimeout = connectTimeoutMillis
            connection.readTimeout = readTimeoutMillis
            connection.instanceFollowRedirects = false
            for ((name, value) in request.headers) connection.setRequestProperty(name, value)
            val file = request.bodyPath?.let { java.io.File(it) }
            if (file != null) {
                // A bundle or one part of it: streamed from the file, never
                // read whole into memory.
                connection.doOutput = true
                connection.setFixedLengthStreamingMode(file.length())
                file.inputStream().use { input -> connection.outputStream.use { input.copyTo(it) } }
            } else if (request.body.isNotEmpty()) {
                connection.doOutput = true
                connection.setFixedLengthStreamingMode(request.body.size)
                connection.outputStream.use { it.write(request.body) }
            }
            val status = connection.responseCode
            val stream = if (status >= 400) connection.errorStream else connection.inputStream
            val body = stream?.use { it.readBytes() } ?: ByteArray(0)
            val headers = connection.headerFields
                .filterKeys { it != null }
                .mapValues { (_, values) -> values.joinToString(", ") }
            return HttpResponse(status.toUShort(), headers, body)
        } catch (e: IOException) {
            throw EnumeraException.Network(e.javaClass.simpleName + ": " + (e.message ?: "no detail"))
        } finally {
            connection.disconnect()
        }
    }
}
