package org.enumera.android

import java.io.File
import java.io.IOException
import okhttp3.Headers.Companion.toHeaders
import okhttp3.MediaType.Companion.toMediaTypeOrNull
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.asRequestBody
import okhttp3.RequestBody.Companion.toRequestBody
import org.enumera.ffi.EnumeraException
import org.enumera.ffi.HttpRequest
import org.enumera.ffi.HttpResponse
import org.enumera.ffi.HttpTransport

/**
 * The [HttpTransport] for apps on OkHttp. Pass the app's shared client so
 * sync uses its connection pool, certificate pinning and interceptors.
 * Called from the thread that called `SyncClient.sync()` (never the main
 * thread), so it executes synchronously.
 */
class OkHttpTransport(
    baseUrl: String,
    private val client: OkHttpClient = OkHttpClient(),
) : HttpTransport {
    private val base = baseUrl.trimEnd('/')

    override fun send(request: HttpRequest): HttpResponse {
        val type = request.headers["Content-Type"]?.toMediaTypeOrNull()
        val body = when {
            request.method == "GET" -> null
            // A bundle or one part of it: OkHttp streams the file.
            request.bodyPath != null -> File(request.bodyPath!!).asRequestBody(type)
            else -> request.body.toRequestBody(type)
        }
        val call = Request.Builder()
            .url(base + request.path)
            .headers(request.headers.toHeaders())
            .method(request.method, body)
            .build()
        try {
            client.newCall(call).execute().use { response ->
                return HttpResponse(
                    status = response.code.toUShort(),
                    headers = response.headers.toMultimap().mapValues { it.value.joinToString(", ") },
                    body = response.body?.bytes() ?: ByteArray(0),
                )
            }
        } catch (e: IOException) {
            // Offline, timeout, TLS: what the user should see as a network problem.
            throw EnumeraException.Network(e.javaClass.simpleName + ": " + (e.message ?: "no detail"))
        }
    }
}
