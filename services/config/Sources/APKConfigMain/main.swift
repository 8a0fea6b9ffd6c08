print("apk-config")
